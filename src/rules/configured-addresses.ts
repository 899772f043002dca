import type { CidrRange } from '../cidr.ts';
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

/** `networkPolicies.clusterCIDRs` (pod and service addresses) as one address set. */
export const clusterAddresses = (ctx: EvaluationContext): AddressSet =>
  setOf(ctx.policy.networkPolicies.clusterRanges);

/** `networkPolicies.privateCIDRs`: never counted as public space. */
export const privateAddresses = (ctx: EvaluationContext): AddressSet =>
  setOf(ctx.policy.networkPolicies.privateRanges);
