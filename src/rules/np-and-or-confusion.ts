import type { RawFinding, Rule } from '../engine/types.ts';
import { rulesInEffect, type Peer, type PolicyRule } from '../model/network-policy.ts';

const namespaceOnly = (peer: Peer): boolean =>
  peer.namespaceSelector !== undefined &&
  peer.podSelector === undefined &&
  peer.ipBlock === undefined;
const podOnly = (peer: Peer): boolean =>
  peer.podSelector !== undefined &&
  peer.namespaceSelector === undefined &&
  peer.ipBlock === undefined;

function judge(rule: PolicyRule): RawFinding | undefined {
  const namespaces = rule.peers.filter(namespaceOnly).map((peer) => peer.index);
  const pods = rule.peers.filter(podOnly).map((peer) => peer.index);
  if (namespaces.length === 0 || pods.length === 0) return undefined;
  const field = `${rule.path}.${rule.peersField}`;
  // The warning line carries the message only and is cut at 256 characters: keep it short, the fix inside.
  const list = (indexes: number[]): string =>
    indexes.length > 3
      ? `${rule.peersField}[${indexes.slice(0, 3).join(',')},...]`
      : `${rule.peersField}[${indexes.join(',')}]`;
  return {
    path: field,
    message: `${list(namespaces)} (namespaceSelector only) and ${list(pods)} (podSelector only) are separate items, so they are ORed, not ANDed; to mean pods matching both, put both selectors in one item.`,
    fix: 'If you meant pods that match both, put namespaceSelector and podSelector in one item (drop the "-" before podSelector); if OR is intended, request an exception or split the rule.',
  };
}

export const npAndOrConfusion: Rule = {
  id: 'NP007',
  name: 'and-or-confusion',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'warn' },
  judges: 'object',
  doc: {
    checks:
      'No rule lists a namespaceSelector-only peer and a podSelector-only peer as separate items of the same `from`/`to`. Separate items are ORed; a namespaceSelector and a podSelector in one item are ANDed. Only a warning, since OR is sometimes meant.',
    prevents:
      'The best-known NetworkPolicy YAML trap: one extra `-` turns "the prometheus pods in the monitoring namespace" into "every pod in the monitoring namespace, and any pod labelled prometheus in this namespace".',
    fix: 'Write both selectors in one list item when you mean pods matching both; keep them separate only when you mean either.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: metrics-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
        - podSelector: {matchLabels: {app: prometheus}}
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
    return rulesInEffect(policy).flatMap((rule) => judge(rule) ?? []);
  },
};
