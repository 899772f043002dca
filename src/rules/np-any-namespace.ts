import type { RawFinding, Rule } from '../engine/types.ts';
import { grantOfRule, meaningOf } from '../model/compile-network-policy.ts';
import { selectsEveryNamespace, selectsEveryPod, type Selector } from '../semantics/selectors.ts';
import {
  describeSelector,
  isEmptySelector,
  rulesInEffect,
  type Peer,
  type PolicyRule,
} from '../model/network-policy.ts';

function describePeer(rule: PolicyRule, peer: Peer, namespaces: Selector): RawFinding {
  const pods =
    peer.podSelector === undefined || selectsEveryPod(peer.podSelector)
      ? 'every pod'
      : `pods with ${describeSelector(peer.podSelector)}`;
  const written = isEmptySelector(namespaces)
    ? 'an empty namespaceSelector'
    : `namespaceSelector ${describeSelector(namespaces)} requires no label a namespace must carry, so it`;
  const reach =
    rule.direction === 'ingress'
      ? `${pods} in every namespace of the cluster can connect to these pods`
      : `these pods can connect to ${pods} in every namespace of the cluster`;
  return {
    path: `${peer.path}.namespaceSelector`,
    message: `${written} matches all namespaces, so ${reach}, including namespaces created later.`,
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
    checks:
      'No peer in `from` or `to` has a `namespaceSelector` that matches every namespace: `{}`, or any selector with no positive requirement (no `matchLabels`, no `In`, no `Exists` on a label other than `kubernetes.io/metadata.name`), such as `NotIn [x]`, `DoesNotExist`, or `Exists` on `kubernetes.io/metadata.name`, which every namespace carries. Every offending peer is reported, also when it pairs such a namespaceSelector with a podSelector.',
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
    const policy = target.view.networkPolicy;
    if (policy === undefined) return [];
    const pods = meaningOf(policy).subject.pods;
    return rulesInEffect(policy).flatMap((rule) =>
      rule.peers.flatMap((peer) => {
        if (peer.namespaceSelector === undefined || !selectsEveryNamespace(peer.namespaceSelector))
          return [];
        // (pods selected, namespaces and pods reached) through this any-namespace peer.
        const reached = grantOfRule(policy, rule).peers[peer.index];
        return [
          {
            ...describePeer(rule, peer, peer.namespaceSelector),
            ...(reached === undefined ? {} : { subject: [{ pods, peer: reached }] }),
          },
        ];
      }),
    );
  },
};
