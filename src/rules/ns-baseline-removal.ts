import { stringMap } from '../labels.ts';
import { ALLOW_DNS_ANNOTATION, BASELINE_ANNOTATION, DEFAULT_DENY_ANNOTATION } from '../vocabulary.ts';
import { field, keyPath } from '../object-access.ts';
import type { RawFinding, Rule } from '../engine/types.ts';
import { policyTypesOf } from '../mutation/baseline-annotations.ts';

export const nsBaselineRemoval: Rule = {
  id: 'NS002',
  name: 'baseline-removal',
  kinds: ['Namespace'],
  operations: ['UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'change',
  doc: {
    checks: 'A Namespace UPDATE does not remove the baseline annotations (`netguard.dev/default-deny`, `netguard.dev/allow-dns`, `netguard.dev/baseline`) or weaken them (fewer policy types in default-deny, allow-dns no longer "true").',
    prevents: 'Quietly lifting a namespace\'s isolation: the controller deletes the baseline NetworkPolicies as soon as the annotation goes.',
    fix: 'Keep the annotations. To run a namespace without the baseline, request an exception for NS002 naming the namespace.',
    fires: `# UPDATE of a namespace that had netguard.dev/default-deny: "Ingress,Egress"
apiVersion: v1
kind: Namespace
metadata:
  name: prod-payments
  annotations: {netguard.dev/default-deny: "Ingress", netguard.dev/allow-dns: "true"}
`,
    passes: `apiVersion: v1
kind: Namespace
metadata:
  name: prod-payments
  labels: {team: payments}
  annotations: {netguard.dev/default-deny: "Ingress,Egress", netguard.dev/allow-dns: "true"}
`,
  },
  check(target) {
    const before = stringMap(field(target.input.oldObject, 'metadata', 'annotations'));
    const after = stringMap(field(target.object, 'metadata', 'annotations'));
    const findings: RawFinding[] = [];
    const fix = 'Restore the annotation, or request an exception for NS002 if this namespace must run without its baseline.';
    for (const key of [DEFAULT_DENY_ANNOTATION, ALLOW_DNS_ANNOTATION, BASELINE_ANNOTATION]) {
      const old = before[key];
      if (old === undefined) continue;
      const path = keyPath('metadata.annotations', key);
      const now = after[key];
      if (now === undefined) {
        findings.push({ path, message: `removing ${key} (${JSON.stringify(old)}) deletes this namespace's baseline NetworkPolicies.`, fix });
        continue;
      }
      if (key === DEFAULT_DENY_ANNOTATION) {
        const kept = policyTypesOf(now);
        const lost = [...policyTypesOf(old)].filter((type) => !kept.has(type));
        if (lost.length > 0) {
          findings.push({ path, message: `changing ${key} from ${JSON.stringify(old)} to ${JSON.stringify(now)} drops default-deny for ${lost.join(', ')}.`, fix });
        }
      } else if (key === ALLOW_DNS_ANNOTATION && old === 'true' && now !== 'true') {
        findings.push({ path, message: `changing ${key} from "true" to ${JSON.stringify(now)} removes the DNS allow policy, so lookups will fail under default-deny egress.`, fix });
      }
    }
    return findings;
  },
};
