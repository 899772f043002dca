import { parseNetworkPolicy, type NetworkPolicy } from '../rules/network-policy.ts';
import { isEmpty } from '../semantics/addresses.ts';
import type { KubeObject } from '../vocabulary.ts';
import { meaningOf } from './compile-network-policy.ts';
import { directionAddresses } from './meaning-queries.ts';
import type { PolicyMeaning } from './policy-meaning.ts';

/**
 * What the cross-policy rules need from a namespace's policies, built once per version of the
 * namespace's policy list (the cluster view hands out the same array until a policy changes), so
 * a review in a namespace of 5,000 policies does not compile or walk them all.
 */
export interface NamespaceIndex {
  /** Policies whose ingress allows some address (NP012 unions). */
  readonly ingressAddresses: readonly PolicyMeaning[];
  /** Policies with ingress grants (NP008 unions). */
  readonly ingressGrants: readonly PolicyMeaning[];
  readonly byName: ReadonlyMap<string, PolicyMeaning>;
}

const indexes = new WeakMap<readonly NetworkPolicy[], NamespaceIndex>();

export function namespaceIndex(policies: readonly NetworkPolicy[]): NamespaceIndex {
  let index = indexes.get(policies);
  if (index !== undefined) return index;
  const ingressAddresses: PolicyMeaning[] = [];
  const ingressGrants: PolicyMeaning[] = [];
  const byName = new Map<string, PolicyMeaning>();
  for (const policy of policies) {
    const meaning = meaningOf(policy);
    byName.set(meaning.source.name, meaning);
    if ((meaning.ingress?.grants.length ?? 0) > 0) ingressGrants.push(meaning);
    if (!isEmpty(directionAddresses(meaning, 'ingress'))) ingressAddresses.push(meaning);
  }
  index = { ingressAddresses, ingressGrants, byName };
  indexes.set(policies, index);
  return index;
}

const oldMeanings = new WeakMap<KubeObject, PolicyMeaning | null>();

/** An UPDATE's oldObject as a meaning (undefined when it is not a valid NetworkPolicy). */
export function meaningOfObject(object: KubeObject | undefined): PolicyMeaning | undefined {
  if (object === undefined) return undefined;
  let meaning = oldMeanings.get(object);
  if (meaning === undefined) {
    const parsed = parseNetworkPolicy(object);
    meaning = parsed.ok ? meaningOf(parsed.policy) : null;
    oldMeanings.set(object, meaning);
  }
  return meaning ?? undefined;
}
