import type { Rule } from '../engine/types.ts';
import { isEmptySelector, selectorKeys } from '../model/network-policy.ts';

export const npIntentSelector: Rule = {
  id: 'NP010',
  name: 'intent-selector',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'warn' },
  judges: 'object',
  doc: {
    checks:
      'A non-empty `spec.podSelector` uses at least one of the required pod labels (`pods.requiredLabels`, default `app` or `app.kubernetes.io/name`, and `tier`). An empty podSelector (the whole namespace) is fine. The shipped policy turns this rule off.',
    prevents:
      'Policies keyed on incidental labels (`version`, `team`, a Helm chart label) that drift from the workloads they protect; the required labels are the ones netguard guarantees every pod carries.',
    fix: 'Select the pods by `app` (or `app.kubernetes.io/name`) and/or `tier`.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {version: v2}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{protocol: TCP, port: 8080}]
`,
    passes: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: api, version: v2}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{protocol: TCP, port: 8080}]
`,
  },
  check(target, ctx) {
    const policy = target.view.networkPolicy;
    if (policy === undefined || isEmptySelector(policy.podSelector)) return [];
    const required = ctx.policy.requiredLabels.flatMap((label) => [
      label.key,
      ...(label.aliases ?? []),
    ]);
    if (selectorKeys(policy.podSelector).some((key) => required.includes(key))) return [];
    return [
      {
        path: 'spec.podSelector',
        message: `podSelector uses none of the required labels (${required.join(', ')}), so it is not tied to the labels every pod is checked for and may drift from the workload it protects.`,
        fix: `Select the pods by ${ctx.policy.requiredLabels.map((label) => label.key).join(' and/or ')}.`,
      },
    ];
  },
};
