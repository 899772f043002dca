import type { RawFinding, Rule } from '../engine/types.ts';
import { describeSelector, isEmptySelector, networkPolicyOf, rulesInEffect, type Peer, type PolicyRule } from './network-policy.ts';

function describePeer(rule: PolicyRule, peer: Peer): RawFinding {
  const pods = peer.podSelector === undefined || isEmptySelector(peer.podSelector) ? 'every pod' : `pods with ${describeSelector(peer.podSelector)}`;
  const reach = rule.direction === 'ingress' ? `${pods} in every namespace of the cluster can connect to these pods` : `these pods can connect to ${pods} in every namespace of the cluster`;
  return {
    path: `${peer.path}.namespaceSelector`,
    message: `an empty namespaceSelector matches all namespaces, so ${reach}, including namespaces created later.`,
    fix: 'Select the namespaces by name: namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: <namespace>}}.',
  };
}

export const npAnyNamespace: Rule = {
  id: 'NP003',
  name: 'any-namespace',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks: 'No peer in `from` or `to` has an empty `namespaceSelector: {}`, which matches every namespace. Every offending peer is reported, also when it pairs the empty namespaceSelector with a podSelector.',
    prevents:
      'Opening a namespace boundary to the whole cluster: `namespaceSelector: {}` admits (or reaches) pods in every namespace, including ones that do not exist yet, so one compromised workload anywhere can reach these pods.',
    fix: 'Select namespaces by name with `namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: <namespace>}}` (the API server sets that label on every namespace), adding a `podSelector` in the same item to narrow it to specific pods.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: metrics-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: prometheus}}}]
      ports: [{protocol: TCP, port: 9090}]
`,
    passes: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: metrics-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
          podSelector: {matchLabels: {app: prometheus}}
      ports: [{protocol: TCP, port: 9090}]
`,
  },
  check(target) {
    const policy = networkPolicyOf(target.object);
    if (policy === undefined) return [];
    return rulesInEffect(policy).flatMap((rule) =>
      rule.peers
        .filter((peer) => peer.namespaceSelector !== undefined && isEmptySelector(peer.namespaceSelector))
        .map((peer) => describePeer(rule, peer)),
    );
  },
};
