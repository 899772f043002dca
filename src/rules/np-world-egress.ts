import { isWorld, parseCidr } from '../cidr.ts';
import type { RawFinding, Rule } from '../engine/types.ts';
import { coversInternet, isSubset, union, type AddressSet } from '../semantics/addresses.ts';
import { approvedEgressAddresses, privateAddresses } from './configured-addresses.ts';
import {
  rulesInEffect,
  type IpBlock,
  type NetworkPolicy,
  type PolicyRule,
} from './network-policy.ts';

interface Approved {
  readonly text: readonly string[];
  readonly addresses: AddressSet;
}

/**
 * An ipBlock is judged as the addresses it covers. A block of the whole family, or one whose peer
 * list (or the policy's egress ipBlocks together) covers every address of a family, is the internet.
 */
function judge(
  ipBlock: IpBlock,
  path: string,
  together: 'alone' | 'rule' | 'policy',
  approved: Approved,
): RawFinding | undefined {
  const approvedList = approved.text.length > 0 ? approved.text.join(', ') : 'none configured';
  const fix = `Allow only the destinations they need (approved: ${approvedList}).`;
  if (ipBlock.addresses === undefined) {
    return {
      path,
      message: `${JSON.stringify(ipBlock.cidr)} is not a valid CIDR, so netguard cannot tell where these pods may connect.`,
      fix: 'Write the destination as an address block such as 203.0.113.0/24.',
    };
  }
  // `except` only carves holes: what remains still reaches addresses nobody approved.
  const range = parseCidr(ipBlock.cidr);
  if (range !== undefined && isWorld(range))
    return {
      path,
      message: `${ipBlock.cidr} lets these pods reach any address on the internet.`,
      fix,
    };
  if (together !== 'alone') {
    const others =
      together === 'rule' ? "this rule's other ipBlocks" : "the policy's other egress ipBlocks";
    return {
      path,
      message: `${ipBlock.cidr}, together with ${others}, covers every address of its family, so it lets these pods reach any address on the internet.`,
      fix,
    };
  }
  if (isSubset(ipBlock.addresses, approved.addresses)) return undefined;
  return {
    path,
    message: `${ipBlock.cidr} is not inside an approved egress range, so these pods can reach addresses nobody reviewed.`,
    fix: `${fix} For a new destination, add it to networkPolicies.approvedEgressCIDRs (or privateCIDRs, for ranges routed inside your network) or request an exception.`,
  };
}

/** Whether smaller blocks compose the internet: in this rule's peer list, or across the policy's egress rules. */
function togetherness(rule: PolicyRule, policy: NetworkPolicy): 'alone' | 'rule' | 'policy' {
  if (coversInternet(rule.partialAddresses)) return 'rule';
  return coversInternet(policy.partialAddresses.egress) ? 'policy' : 'alone';
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
      'Every egress `ipBlock` covers only addresses inside `networkPolicies.approvedEgressCIDRs` or `privateCIDRs` (IPv4 and IPv6; IPv4-mapped IPv6 blocks such as `::ffff:0.0.0.0/96` count as the IPv4 addresses they reach). Blocks are judged as the addresses they cover once `except` is taken out. 0.0.0.0/0 and ::/0, and any set of blocks that together covers every address of a family (`0.0.0.0/1` + `128.0.0.0/1`), are the internet and get their own sentence; an `except` list does not make a world CIDR acceptable, and a block that only overlaps an approved one is not approved.',
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
    - to: [{ipBlock: {cidr: 172.20.0.0/16}}]  # inside privateCIDRs: [172.16.0.0/12]
      ports: [{protocol: TCP, port: 443}]
    - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
`,
  },
  check(target, ctx) {
    const policy = target.view.networkPolicy;
    if (policy === undefined) return [];
    // Private ranges (routed inside the organisation) are not the internet: egress there is fine.
    const approved = {
      text: ctx.policy.networkPolicies.approvedEgressCIDRs,
      addresses: union(approvedEgressAddresses(ctx), privateAddresses(ctx)),
    };
    const findings: RawFinding[] = [];
    for (const rule of rulesInEffect(policy, 'egress')) {
      const together = togetherness(rule, policy);
      for (const peer of rule.peers) {
        if (peer.ipBlock === undefined) continue;
        const found = judge(peer.ipBlock, `${peer.path}.ipBlock.cidr`, together, approved);
        if (found !== undefined) findings.push(found);
      }
    }
    return findings;
  },
};
