import { contains, isWorld, parseCidr, type CidrRange } from '../cidr.ts';
import type { RawFinding, Rule } from '../engine/types.ts';
import { networkPolicyOf, rulesInEffect, type IpBlock } from './network-policy.ts';

function judge(ipBlock: IpBlock, path: string, approvedText: readonly string[], approved: readonly CidrRange[]): RawFinding | undefined {
  const approvedList = approvedText.length > 0 ? approvedText.join(', ') : 'none configured';
  const fix = `Allow only the destinations they need (approved: ${approvedList}).`;
  const range = parseCidr(ipBlock.cidr);
  if (range === undefined) {
    return { path, message: `${JSON.stringify(ipBlock.cidr)} is not a valid CIDR, so netguard cannot tell where these pods may connect.`, fix: 'Write the destination as an address block such as 160.79.104.0/23.' };
  }
  // `except` only carves holes: what remains still reaches addresses nobody approved.
  if (isWorld(range)) return { path, message: `${ipBlock.cidr} lets these pods reach any address on the internet.`, fix };
  if (approved.some((block) => contains(block, range))) return undefined;
  return {
    path,
    message: `${ipBlock.cidr} is not inside an approved egress range, so these pods can reach addresses nobody reviewed.`,
    fix: `${fix} For a new destination, add it to networkPolicies.approvedEgressCIDRs or request an exception.`,
  };
}

export const npWorldEgress: Rule = {
  id: 'NP004',
  name: 'world-egress',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      'Every egress `ipBlock.cidr` lies wholly inside one of `networkPolicies.approvedEgressCIDRs` (IPv4 and IPv6). 0.0.0.0/0 and ::/0 get their own sentence; an `except` list does not make a world CIDR acceptable, and a block that only overlaps an approved one is not approved.',
    prevents:
      'Pods that can send data anywhere on the internet: the exfiltration path and the command-and-control channel that egress policies exist to close.',
    fix: 'Narrow the ipBlock to the addresses the workload needs and that the platform team approved. For a new destination, add it to `approvedEgressCIDRs` or request a time-limited exception for NP004.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: crawler-egress, namespace: prod-crawl}
spec:
  podSelector: {matchLabels: {app: crawler}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
      ports: [{protocol: TCP, port: 443}]
    - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
`,
    passes: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: crawler-egress, namespace: prod-crawl}
spec:
  podSelector: {matchLabels: {app: crawler}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 160.79.104.0/24}}]
      ports: [{protocol: TCP, port: 443}]
    - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
`,
  },
  check(target, ctx) {
    const policy = networkPolicyOf(target.object);
    if (policy === undefined) return [];
    const { approvedEgressCIDRs, approvedEgressRanges } = ctx.policy.networkPolicies;
    const approved = approvedEgressRanges.map((entry) => entry.range);
    const findings: RawFinding[] = [];
    for (const rule of rulesInEffect(policy, 'egress')) {
      for (const peer of rule.peers) {
        if (peer.ipBlock === undefined) continue;
        const found = judge(peer.ipBlock, `${peer.path}.ipBlock.cidr`, approvedEgressCIDRs, approved);
        if (found !== undefined) findings.push(found);
      }
    }
    return findings;
  },
};
