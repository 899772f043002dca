import type { Rule } from '../engine/types.ts';
import { namespaceBaselinePatch } from '../mutation/namespace-baseline.ts';

/** NS001 is a mutation: on Namespace CREATE, /mutate adds the baseline annotations of the environment. */
export const nsBaseline: Rule = {
  id: 'NS001',
  name: 'baseline',
  kinds: ['Namespace'],
  operations: [],
  // 'warn' means on: the mutation runs unless the policy sets NS001 to off.
  levels: { observe: 'warn', constrain: 'warn', enforce: 'warn' },
  judges: 'object',
  doc: {
    checks:
      'On Namespace CREATE the mutating webhook adds `netguard.dev/default-deny` (`Ingress,Egress` in enforce, `Ingress` in constrain) and `netguard.dev/allow-dns: "true"`; in observe only `netguard.dev/baseline: observe`. Values the user set are never overwritten.',
    prevents:
      'A new namespace starting wide open. The baseline controller turns the annotations into default-deny and DNS-allow NetworkPolicies, so isolation is the default rather than a wiki page.',
    fix: 'Nothing to fix: it is applied for you. To opt a namespace out, an approved GuardrailException for NS001 naming the namespace, in netguard-system, must exist before the namespace is created.',
    fires: `apiVersion: v1
kind: Namespace
metadata: {name: prod-payments}
`,
    passes: `apiVersion: v1
kind: Namespace
metadata:
  name: prod-payments
  annotations: {netguard.dev/default-deny: "Ingress,Egress", netguard.dev/allow-dns: "true"}
`,
  },
  check: () => [],
  mutation: {
    operations: ['CREATE'],
    describes: {
      path: 'metadata.annotations',
      message: 'baseline annotations withheld for this namespace.',
      fix: '',
    },
    patch: (target) => namespaceBaselinePatch(target.object, target.environment.mode),
  },
};
