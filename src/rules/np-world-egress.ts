import type { RawFinding, Rule } from '../engine/types.ts';
import { meaningOf } from '../model/compile-network-policy.ts';
import { describeInternet, opensInternet } from '../model/public-space.ts';
import { difference, isSubset, unionAll, type AddressSet } from '../semantics/addresses.ts';
import { approvedEgressAddresses, privateAddresses } from './configured-addresses.ts';
import { rulesInEffect, type IpBlock, type PolicyRule } from '../model/network-policy.ts';

interface Approved {
  readonly text: readonly string[];
  readonly addresses: AddressSet;
  /** privateCIDRs: never the internet. */
  readonly notPublic: AddressSet;
}

/** "any address on the internet", or "the internet (except 10.0.0.0/8)" when the set leaves holes. */
function reach(set: AddressSet, approved: Approved): string {
  const words = describeInternet(set, approved.notPublic);
  return words === 'the internet' ? 'any address on the internet' : words;
}

/**
 * An ipBlock is judged as the addresses it covers outside the approved ranges. One whose own
 * addresses open the internet (more than 1/256 of a family's public space) gets the internet
 * sentence; so does one whose rule, or the policy's egress rules together, open it.
 */
function judge(
  ipBlock: IpBlock,
  path: string,
  together: AddressSet | undefined,
  whose: 'rule' | 'policy',
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
  if (isSubset(ipBlock.addresses, approved.addresses)) return undefined;
  const unapproved = difference(ipBlock.addresses, approved.addresses);
  // `except` only carves holes: what remains may still open the internet.
  if (opensInternet(unapproved, approved.notPublic))
    return {
      path,
      message: `${ipBlock.cidr} lets these pods reach ${reach(ipBlock.addresses, approved)}.`,
      fix,
    };
  if (together !== undefined) {
    const others =
      whose === 'rule' ? "this rule's other ipBlocks" : "the policy's other egress ipBlocks";
    return {
      path,
      message: `${ipBlock.cidr}, together with ${others}, lets these pods reach ${reach(together, approved)}.`,
      fix,
    };
  }
  return {
    path,
    message: `${ipBlock.cidr} is not inside an approved egress range, so these pods can reach addresses nobody reviewed.`,
    fix: `${fix} For a new destination, add it to networkPolicies.approvedEgressCIDRs (or privateCIDRs, for ranges routed inside your network) or request an exception.`,
  };
}

/**
 * Whether smaller blocks open the internet together: in this rule's peer list, or across the
 * policy's egress rules. Blocks that open it alone have their own sentence and are left out, so a
 * `0.0.0.0/0` elsewhere does not drag every other block into this one.
 */
function togetherness(
  rules: readonly PolicyRule[],
  approved: Approved,
): (rule: PolicyRule) => { set: AddressSet | undefined; whose: 'rule' | 'policy' } {
  const unapproved = (some: readonly PolicyRule[]): AddressSet =>
    unionAll(
      some.flatMap((each) =>
        each.peers.flatMap((peer) => {
          const addresses = peer.ipBlock?.addresses;
          if (addresses === undefined) return [];
          const outside = difference(addresses, approved.addresses);
          return opensInternet(outside, approved.notPublic) ? [] : [outside];
        }),
      ),
    );
  // The policy's union is computed once, not once per rule.
  const inPolicy = unapproved(rules);
  const policyOpens = opensInternet(inPolicy, approved.notPublic);
  return (rule) => {
    const inRule = unapproved([rule]);
    if (opensInternet(inRule, approved.notPublic)) return { set: inRule, whose: 'rule' };
    return policyOpens ? { set: inPolicy, whose: 'policy' } : { set: undefined, whose: 'policy' };
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
      'Every egress `ipBlock` covers only addresses inside `networkPolicies.approvedEgressCIDRs` or `privateCIDRs` (IPv4 and IPv6; IPv4-mapped IPv6 blocks such as `::ffff:0.0.0.0/96` count as the IPv4 addresses they reach). Blocks are judged as the addresses they cover once `except` is taken out. 0.0.0.0/0 and ::/0, and any set of blocks that together covers every address of a family (`0.0.0.0/1` + `128.0.0.0/1`), are the internet and get their own sentence; an `except` list does not make a world CIDR acceptable, and a block that only overlaps an approved one is not approved. A write of a Calico NetworkSet or GlobalNetworkSet, or a CiliumCIDRGroup, is judged as part of every cached dialect policy that names it (the finding is at `spec.nets` or `spec.externalCIDRs` and names the policy).',
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
      addresses: unionAll([approvedEgressAddresses(ctx), privateAddresses(ctx)]),
      notPublic: privateAddresses(ctx),
    };
    const pods = meaningOf(policy).subject.pods;
    const findings: RawFinding[] = [];
    const rules = rulesInEffect(policy, 'egress');
    const togetherFor = togetherness(rules, approved);
    for (const rule of rules) {
      const together = togetherFor(rule);
      for (const peer of rule.peers) {
        if (peer.ipBlock === undefined) continue;
        const found = judge(
          peer.ipBlock,
          `${peer.path}.ipBlock.cidr`,
          together.set,
          together.whose,
          approved,
        );
        if (found === undefined) continue;
        const addresses = peer.ipBlock.addresses;
        // The egress addresses outside approvedEgressCIDRs, with their ports, for these pods.
        findings.push(
          addresses === undefined
            ? found
            : {
                ...found,
                subject: [
                  {
                    pods,
                    peer: {
                      kind: 'addresses',
                      path: peer.path,
                      text: peer.ipBlock.cidr,
                      addresses: difference(addresses, approved.addresses),
                    },
                    ports: rule.portSet,
                  },
                ],
              },
        );
      }
    }
    return findings;
  },
};
