import type { RawFinding, Rule } from '../engine/types.ts';
import { POD_KINDS } from '../vocabulary.ts';
import { podTemplateOf } from '../model/pod-template.ts';

export const podRequiredLabels: Rule = {
  id: 'POD001',
  name: 'required-labels',
  kinds: POD_KINDS,
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      'Every Pod, and the pod template of every workload, carries the required labels (default `app`, with `app.kubernetes.io/name` accepted, and `tier`) with a non-empty value.',
    prevents:
      'NetworkPolicies select pods by label. A pod without `app` or `tier` cannot be targeted by an allow rule, so it is either cut off by default-deny or left outside every policy.',
    fix: 'Add the missing labels to `metadata.labels` of the Pod, or to `spec.template.metadata.labels` of the workload.',
    fires: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod-shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
`,
    passes: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod-shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: frontend}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
`,
  },
  check(target, ctx) {
    const template = podTemplateOf(target.kind, target.object);
    if (template === undefined) return [];
    const findings: RawFinding[] = [];
    for (const required of ctx.policy.requiredLabels) {
      const keys = [required.key, ...(required.aliases ?? [])];
      if (keys.some((key) => (template.labels[key] ?? '') !== '')) continue;
      const empty = keys.some((key) => template.labels[key] === '');
      const named = required.aliases?.length
        ? `"${required.key}" (or ${required.aliases.join(', ')})`
        : `"${required.key}"`;
      const values = required.allowedValues?.length
        ? ` (one of ${required.allowedValues.join(', ')})`
        : '';
      findings.push({
        path: `${template.prefix}metadata.labels`,
        message: `required label ${named} is ${empty ? 'empty' : 'missing'}, so NetworkPolicies cannot select these pods by ${required.key}.`,
        fix: `Add the label ${required.key}${values} to ${template.prefix}metadata.labels.`,
      });
    }
    return findings;
  },
};
