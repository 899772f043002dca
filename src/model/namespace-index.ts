import { parseNetworkPolicy, type NetworkPolicy } from './network-policy.ts';
import { isEmpty } from '../semantics/addresses.ts';
import type { KubeObject } from '../vocabulary.ts';
import { meaningOf } from './compile-network-policy.ts';
import { directionAddresses } from './meaning-queries.ts';
import type { LabelSet, PolicyMeaning } from './policy-meaning.ts';

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

/** The first key (in sorted order) a label set pins with `In`, and its values. */
function pin(set: LabelSet): { key: string; values: readonly string[] } | undefined {
  const first = set.requirements.find((requirement) => requirement.operator === 'In');
  return first === undefined ? undefined : { key: first.key, values: first.values };
}

interface PinIndex {
  /** key → value → policies whose first pinned key is `key` and allow `value`. */
  readonly pinned: ReadonlyMap<string, ReadonlyMap<string, readonly PolicyMeaning[]>>;
  /** Policies that pin no key: they may select any label set. */
  readonly unpinned: readonly PolicyMeaning[];
}

const pinIndexes = new WeakMap<readonly PolicyMeaning[], PinIndex>();

function pinIndexOf(list: readonly PolicyMeaning[]): PinIndex {
  let index = pinIndexes.get(list);
  if (index !== undefined) return index;
  const pinned = new Map<string, Map<string, PolicyMeaning[]>>();
  const unpinned: PolicyMeaning[] = [];
  for (const meaning of list) {
    const found = pin(meaning.subject.pods);
    if (found === undefined) {
      unpinned.push(meaning);
      continue;
    }
    let byValue = pinned.get(found.key);
    if (byValue === undefined) pinned.set(found.key, (byValue = new Map()));
    for (const value of found.values) {
      const bucket = byValue.get(value);
      if (bucket === undefined) byValue.set(value, [meaning]);
      else bucket.push(meaning);
    }
  }
  index = { pinned, unpinned };
  pinIndexes.set(list, index);
  return index;
}

/**
 * The policies of `list` whose subject may overlap `subject`, without walking the list: a policy
 * whose first pinned key the subject also pins overlaps only when they share a value there; every
 * other policy is kept (complete: no overlapping policy is left out).
 */
export function mayOverlap(list: readonly PolicyMeaning[], subject: LabelSet): PolicyMeaning[] {
  const index = pinIndexOf(list);
  const mine = new Map<string, readonly string[]>();
  for (const requirement of subject.requirements)
    if (requirement.operator === 'In' && !mine.has(requirement.key))
      mine.set(requirement.key, requirement.values);
  const out = new Set<PolicyMeaning>(index.unpinned);
  for (const [key, byValue] of index.pinned) {
    const values = mine.get(key);
    if (values === undefined) {
      for (const bucket of byValue.values()) for (const meaning of bucket) out.add(meaning);
      continue;
    }
    for (const value of values) for (const meaning of byValue.get(value) ?? []) out.add(meaning);
  }
  return [...out];
}

export function namespaceIndex(policies: readonly NetworkPolicy[]): NamespaceIndex {
  let index = indexes.get(policies);
  if (index !== undefined) return index;
  index = indexOfMeanings(policies.map(meaningOf));
  indexes.set(policies, index);
  return index;
}

/** The same index over meanings of any dialect (a namespace's NetworkPolicies and dialect policies). */
export function indexOfMeanings(meanings: readonly PolicyMeaning[]): NamespaceIndex {
  const ingressAddresses: PolicyMeaning[] = [];
  const ingressGrants: PolicyMeaning[] = [];
  const byName = new Map<string, PolicyMeaning>();
  for (const meaning of meanings) {
    byName.set(meaning.source.name, meaning);
    if ((meaning.ingress?.grants.length ?? 0) > 0) ingressGrants.push(meaning);
    if (!isEmpty(directionAddresses(meaning, 'ingress'))) ingressAddresses.push(meaning);
  }
  return { ingressAddresses, ingressGrants, byName };
}

/** Whether two meanings are of the same object (group, kind, namespace and name). */
export const sameSource = (a: PolicyMeaning, b: PolicyMeaning): boolean =>
  a.source.group === b.source.group &&
  a.source.kind === b.source.kind &&
  a.source.namespace === b.source.namespace &&
  a.source.name === b.source.name;

/** Policies as a finding names them: `NetworkPolicy a, b` or `CiliumNetworkPolicy a, NetworkPolicy b`. */
export function describePolicies(meanings: readonly PolicyMeaning[]): string {
  const kinds = new Set(meanings.map((meaning) => meaning.source.kind));
  if (kinds.size === 1 && kinds.has('NetworkPolicy'))
    return `NetworkPolicy ${meanings.map((meaning) => meaning.source.name).join(', ')}`;
  return meanings.map((meaning) => `${meaning.source.kind} ${meaning.source.name}`).join(', ');
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
