import type { Rule } from '../engine/types.ts';

export const npExplicitPolicyTypes: Rule = {
  id: 'NP009',
  name: 'explicit-policy-types',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'warn' },
  judges: 'object',
  doc: {
    checks:
      'The manifest sets `spec.policyTypes`. Without it Kubernetes infers Ingress always and Egress only when egress rules exist. The API server fills the field in before admission, so this rule mostly speaks in `netguard check` (CI and pre-commit), where the manifest is seen as written.',
    prevents:
      'Isolation that depends on an accident of the YAML: a policy meant as "deny all egress" written as `egress: []` restricts nothing, and deleting the last egress rule of a policy silently lifts its egress isolation.',
    fix: 'Write `policyTypes` explicitly: `[Ingress]`, `[Egress]` or `[Ingress, Egress]`.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: prod-shop}
spec:
  podSelector: {}
  egress: []
`,
    passes: `# Deny all egress except DNS, and say so.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: prod-shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
`,
  },
  check(target) {
    const policy = target.view.networkPolicy;
    if (policy === undefined || policy.declaredPolicyTypes !== undefined) return [];
    const inferred = policy.policyTypes.has('egress') ? '[Ingress, Egress]' : '[Ingress]';
    const message = policy.policyTypes.has('egress')
      ? 'policyTypes is omitted, so Kubernetes infers [Ingress, Egress] from the egress rules, and removing the last egress rule would silently lift egress isolation.'
      : 'policyTypes is omitted, so Kubernetes infers [Ingress] and this policy restricts no egress at all.';
    return [
      {
        path: 'spec.policyTypes',
        message,
        fix: `Set policyTypes explicitly (today's inferred value is ${inferred}; add Egress to restrict outgoing traffic).`,
      },
    ];
  },
};
