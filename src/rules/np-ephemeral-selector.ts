import { keyPath } from '../object-access.ts';
import type { RawFinding, Rule } from '../engine/types.ts';
import { selectorsOf } from '../model/network-policy.ts';

export const npEphemeralSelector: Rule = {
  id: 'NP006',
  name: 'ephemeral-selector',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      "No selector (`spec.podSelector` or a peer's podSelector/namespaceSelector) uses a label that controllers generate: by default `pod-template-hash`, `controller-revision-hash`, `statefulset.kubernetes.io/pod-name`, `batch.kubernetes.io/controller-uid`, `controller-uid` and `apps.kubernetes.io/pod-index` (configurable as `networkPolicies.ephemeralLabels`), in matchLabels or matchExpressions.",
    prevents:
      'A policy that breaks on the next rollout: the value of `pod-template-hash` changes with every new ReplicaSet, so the selector stops matching and traffic is cut (or no longer restricted) without anyone touching the policy.',
    fix: 'Select on labels you own and keep stable, such as `app` or `app.kubernetes.io/name` and `tier`.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: web, pod-template-hash: 7c9d8f6b5}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: gateway}}}]
      ports: [{protocol: TCP, port: 8080}]
`,
    passes: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: gateway}}}]
      ports: [{protocol: TCP, port: 8080}]
`,
  },
  check(target, ctx) {
    const policy = target.view.networkPolicy;
    if (policy === undefined) return [];
    const ephemeral = new Set(ctx.policy.networkPolicies.ephemeralLabels);
    const findings: RawFinding[] = [];
    const report = (path: string, key: string): void => {
      findings.push({
        path,
        message: `${JSON.stringify(key)} is a label controllers generate and change on rollouts and restarts, so this selector will stop matching the pods it was written for.`,
        fix: 'Select on a label you own, such as app or app.kubernetes.io/name.',
      });
    };
    for (const { path, selector } of selectorsOf(policy)) {
      for (const key of Object.keys(selector.matchLabels)) {
        if (ephemeral.has(key)) report(keyPath(`${path}.matchLabels`, key), key);
      }
      selector.matchExpressions.forEach((term, index) => {
        if (ephemeral.has(term.key)) report(`${path}.matchExpressions[${index}].key`, term.key);
      });
    }
    return findings;
  },
};
