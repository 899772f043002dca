import type { RawFinding, Rule } from '../engine/types.ts';
import { POD_KINDS } from '../vocabulary.ts';
import { podTemplateOf } from '../model/pod-template.ts';

export const podLabelValues: Rule = {
  id: 'POD002',
  name: 'label-values',
  kinds: POD_KINDS,
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      'A required label that has a fixed set of values (default `tier`: frontend, backend, data, sandbox) uses one of them.',
    prevents:
      'Policies are written for the known tiers. A pod labelled `tier: web` matches none of them and silently loses (or never gets) its allowed traffic.',
    fix: 'Use one of the allowed values, or ask the platform team to add the value to `spec.pods.requiredLabels` in the policy.',
    fires: `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: prod-shop, labels: {app: web, tier: web}}
spec: {containers: [{name: web, image: nginx:1.27}]}
`,
    passes: `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: prod-shop, labels: {app: web, tier: frontend}}
spec: {containers: [{name: web, image: nginx:1.27}]}
`,
  },
  check(target, ctx) {
    const template = podTemplateOf(target.kind, target.object);
    if (template === undefined) return [];
    const findings: RawFinding[] = [];
    for (const required of ctx.policy.requiredLabels) {
      const allowed = required.allowedValues;
      const value = template.labels[required.key];
      if (allowed === undefined || allowed.length === 0 || value === undefined || value === '')
        continue;
      if (allowed.includes(value)) continue;
      findings.push({
        path: `${template.prefix}metadata.labels.${required.key}`,
        message: `${required.key} ${JSON.stringify(value)} is not an allowed value, so policies written for the known ${required.key}s will not select these pods.`,
        fix: `Use one of: ${allowed.join(', ')}.`,
      });
    }
    return findings;
  },
};
