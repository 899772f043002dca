import { isWorld, overlapsOutside, parseCidr } from '../cidr.ts';
import type { RawFinding, Rule } from '../engine/types.ts';
import { networkPolicyOf, rulesInEffect } from './network-policy.ts';

export const npPodIpIpBlock: Rule = {
  id: 'NP005',
  name: 'pod-ip-ipblock',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      'No `ipBlock` (ingress or egress) covers addresses inside `networkPolicies.clusterCIDRs` (pod and service ranges) once its `except` entries are taken out. 0.0.0.0/0 and ::/0 mean "anywhere" rather than pod addresses and are left to NP002/NP004.',
    prevents:
      'Policies that silently stop working: pod and service IPs change on every reschedule, and whether ipBlock matches in-cluster traffic at all depends on the network plugin (Kubernetes defines ipBlock for cluster-external addresses).',
    fix: 'Select in-cluster peers by label: a `podSelector`, a `namespaceSelector` on `kubernetes.io/metadata.name`, or both in one item. Keep ipBlock for addresses outside the cluster, with `except` for the cluster ranges if the block is wider.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
    - from: [{ipBlock: {cidr: 10.244.3.0/24}}]
      ports: [{protocol: TCP, port: 5432}]
`,
    passes: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: api}}}]
      ports: [{protocol: TCP, port: 5432}]
`,
  },
  check(target, ctx) {
    const policy = networkPolicyOf(target.object);
    if (policy === undefined) return [];
    const cluster = ctx.policy.networkPolicies.clusterRanges;
    const findings: RawFinding[] = [];
    for (const rule of rulesInEffect(policy)) {
      for (const peer of rule.peers) {
        const range = peer.ipBlock === undefined ? undefined : parseCidr(peer.ipBlock.cidr);
        if (peer.ipBlock === undefined || range === undefined || isWorld(range)) continue;
        const except = peer.ipBlock.except.map(parseCidr).filter((block) => block !== undefined);
        const hit = cluster.find((entry) => overlapsOutside(range, entry.range, except));
        if (hit === undefined) continue;
        findings.push({
          path: `${peer.path}.ipBlock.cidr`,
          message: `${peer.ipBlock.cidr} overlaps the cluster range ${hit.text}, and pod and service IPs change whenever pods are rescheduled, so this rule will not keep matching the pods it was written for.`,
          fix: 'Select in-cluster peers with a podSelector or namespaceSelector instead, or add the cluster range to except.',
        });
      }
    }
    return findings;
  },
};
