import type { CidrRange } from '../cidr.ts';
import type { ClusterRanges } from '../cluster-ranges.ts';
import type { EvaluationContext } from '../engine/types.ts';
import { rangesAddresses, type AddressSet } from '../semantics/addresses.ts';

// The policy is compiled once per load: its ranges become address sets once per policy, not per review.
const sets = new WeakMap<readonly { readonly range: CidrRange }[], AddressSet>();

function setOf(ranges: readonly { readonly range: CidrRange }[]): AddressSet {
  let set = sets.get(ranges);
  if (set === undefined)
    sets.set(ranges, (set = rangesAddresses(ranges.map((entry) => entry.range))));
  return set;
}

/** `networkPolicies.approvedEgressCIDRs` as one address set. */
export const approvedEgressAddresses = (ctx: EvaluationContext): AddressSet =>
  setOf(ctx.policy.networkPolicies.approvedEgressRanges);

/** `networkPolicies.privateCIDRs` (routed internally, not the internet) as one address set. */
export const privateAddresses = (ctx: EvaluationContext): AddressSet =>
  setOf(ctx.policy.networkPolicies.privateRanges);

/**
 * The pod and service ranges: the policy's list, or with `clusterCIDRs: auto` what the cluster
 * answered. `unknown` says why NP005 cannot judge (offline, no source, a VPC CNI).
 */
export function clusterRangesOf(ctx: EvaluationContext): ClusterRanges {
  const np = ctx.policy.networkPolicies;
  if (!np.clusterCIDRsAuto)
    return {
      ranges: np.clusterRanges,
      sources: ['policy'],
      unknown:
        np.clusterRanges.length === 0
          ? 'clusterCIDRs is an empty list; set clusterCIDRs'
          : undefined,
    };
  return ctx.cluster.clusterRanges();
}

/** The pod and service addresses as one address set; undefined when they are not known. */
export function clusterAddresses(ctx: EvaluationContext): AddressSet | undefined {
  const ranges = clusterRangesOf(ctx);
  return ranges.ranges.length === 0 || ranges.unknown !== undefined
    ? undefined
    : setOf(ranges.ranges);
}
