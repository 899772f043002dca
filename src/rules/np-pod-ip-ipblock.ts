import { isWorld, parseCidr } from '../cidr.ts';
import type { RawFinding, Rule } from '../engine/types.ts';
import { opensInternet } from '../model/public-space.ts';
import { intersection, isEmpty, rangesAddresses } from '../semantics/addresses.ts';
import { clusterAddresses, privateAddresses, clusterRangesOf } from './configured-addresses.ts';
import { rulesInEffect } from '../model/network-policy.ts';
import type { ClusterRanges } from '../cluster-ranges.ts';

export const npPodIpIpBlock: Rule = {
  id: 'NP005',
  name: 'pod-ip-ipblock',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      'No `ipBlock` (ingress or egress) covers addresses inside `networkPolicies.clusterCIDRs` (pod and service ranges) once its `except` entries are taken out (IPv4-mapped IPv6 blocks count as IPv4). A set that opens the internet (more than 1/256 of its family\'s public space, in one rule or across the direction\'s rules: `0.0.0.0/0`, `0.0.0.0/0 except [10.0.0.0/8]`, `0.0.0.0/2`) means "anywhere" rather than pod addresses and is left to NP004/NP012.',
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
    const policy = target.view.networkPolicy;
    if (policy === undefined) return [];
    const known = clusterRangesOf(ctx);
    const pods = clusterAddresses(ctx);
    const notPublic = privateAddresses(ctx);
    const findings: RawFinding[] = [];
    // Once per direction, not once per rule.
    const directionOpens = {
      ingress: opensInternet(policy.addresses.ingress, notPublic),
      egress: opensInternet(policy.addresses.egress, notPublic),
    };
    for (const rule of rulesInEffect(policy)) {
      // A set that opens the internet (however it is spelled) is NP004/NP012's concern, not pod addresses.
      if (directionOpens[rule.direction] || opensInternet(rule.addresses, notPublic)) continue;
      for (const peer of rule.peers) {
        const addresses = peer.ipBlock?.addresses;
        const range = peer.ipBlock === undefined ? undefined : parseCidr(peer.ipBlock.cidr);
        if (
          peer.ipBlock === undefined ||
          addresses === undefined ||
          range === undefined ||
          isWorld(range)
        )
          continue;
        if (pods === undefined) {
          if (!isEmpty(intersection(addresses, POSSIBLY_PODS)))
            findings.push(notJudged(`${peer.path}.ipBlock.cidr`, peer.ipBlock.cidr, known));
          continue;
        }
        if (isEmpty(intersection(addresses, pods))) continue;
        const hit = known.ranges.find(
          (entry) => !isEmpty(intersection(addresses, rangesAddresses([entry.range]))),
        );
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

/**
 * Where pod and service ranges are allocated from in practice (RFC 1918, RFC 6598 shared space,
 * IPv6 unique local): with the ranges unknown, only blocks there are "not judged"; a public block
 * such as a SaaS API's is not said to be maybe pods on every policy.
 */
const POSSIBLY_PODS = rangesAddresses(
  ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'].flatMap(
    (text) => parseCidr(text) ?? [],
  ),
);

/** Pod and service ranges unknown: the block is reported as not judged, never denied. */
function notJudged(path: string, cidr: string, known: ClusterRanges): RawFinding {
  return {
    path,
    message: `not judged: set clusterCIDRs. Whether ${cidr} holds pod or service addresses cannot be told: ${known.unknown ?? 'the cluster ranges are not known'}.`,
    fix: 'Set networkPolicies.clusterCIDRs in the policy to the pod and service ranges, or select in-cluster peers by label.',
    notJudged: true,
  };
}
