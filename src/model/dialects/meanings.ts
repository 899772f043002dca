/** A dialect policy's meanings, compiled once per object with what the cluster holds now. */
import { asRecord } from '../../object-access.ts';
import {
  CALICO_GLOBAL_NETWORK_SET,
  CALICO_GLOBAL_POLICY,
  CALICO_NETWORK_SET,
  CILIUM_CIDR_GROUP,
  CILIUM_CLUSTERWIDE_POLICY,
  CILIUM_POLICY,
  type KubeObject,
} from '../../vocabulary.ts';
import type { PolicyMeaning } from '../policy-meaning.ts';
import { calicoMeanings, isCalicoPolicyKind, networkSetOf, type NetworkSet } from './calico.ts';
import { cidrGroupOf, ciliumMeanings, type CidrGroup } from './cilium.ts';
import {
  clusterNetworkPolicyMeanings,
  isClusterNetworkPolicyKind,
} from './cluster-network-policy.ts';

/**
 * Objects of a judged kind the cluster holds (CIDR groups, network sets), from its caches;
 * undefined when the cluster's objects of that kind are not known. The same array is handed out
 * until one of them changes, so a meaning compiled against it stays right until then.
 */
export type DialectObjects = (
  judgedKind: string,
  namespace?: string,
) => readonly KubeObject[] | undefined;

/** The set objects a dialect's peers name, as read once per cached list. */
const networkSets = new WeakMap<readonly KubeObject[], readonly NetworkSet[]>();
const cidrGroups = new WeakMap<readonly KubeObject[], readonly CidrGroup[]>();

function readAll<T>(
  cache: WeakMap<readonly KubeObject[], readonly T[]>,
  list: readonly KubeObject[],
  read: (object: KubeObject) => T,
): readonly T[] {
  let known = cache.get(list);
  if (known === undefined) cache.set(list, (known = list.map(read)));
  return known;
}

/** The lists a kind's meaning depends on (their identity decides whether a memo is still right). */
function dependencies(judgedKind: string, objects: DialectObjects): readonly unknown[] {
  if (judgedKind === CILIUM_POLICY || judgedKind === CILIUM_CLUSTERWIDE_POLICY)
    return [objects(CILIUM_CIDR_GROUP)];
  if (isCalicoPolicyKind(judgedKind))
    return [
      objects(CALICO_NETWORK_SET),
      objects(CALICO_GLOBAL_NETWORK_SET),
      ...calicoNeighbours(objects),
    ];
  return [];
}

/** The Calico policies that may come before this one in its tier: the global ones (calico.ts). */
const calicoNeighbours = (objects: DialectObjects): (readonly KubeObject[] | undefined)[] => [
  objects(CALICO_GLOBAL_POLICY),
];

/** Compiles without memo: a set write is judged against the cached sets with the new version in. */
export function compileDialect(
  judgedKind: string,
  version: string,
  object: KubeObject,
  objects: DialectObjects,
): readonly PolicyMeaning[] | undefined {
  if (asRecord(object) === undefined) return undefined;
  if (judgedKind === CILIUM_POLICY || judgedKind === CILIUM_CLUSTERWIDE_POLICY) {
    const groups = objects(CILIUM_CIDR_GROUP);
    return ciliumMeanings(object, judgedKind, version, {
      cidrGroups: groups === undefined ? undefined : readAll(cidrGroups, groups, cidrGroupOf),
    });
  }
  if (isCalicoPolicyKind(judgedKind))
    return calicoMeanings(object, judgedKind, version, {
      networkSets: [
        ...readAll(networkSets, objects(CALICO_NETWORK_SET) ?? [], networkSetOf),
        ...readAll(networkSets, objects(CALICO_GLOBAL_NETWORK_SET) ?? [], networkSetOf),
      ],
      calicoPolicies: calicoNeighbours(objects).flatMap((list) =>
        list === undefined ? [] : [list],
      ),
    });
  if (isClusterNetworkPolicyKind(judgedKind))
    return clusterNetworkPolicyMeanings(object, judgedKind, version);
  return undefined;
}

interface Memo {
  readonly dependencies: readonly unknown[];
  readonly meanings: readonly PolicyMeaning[];
}

const memo = new WeakMap<KubeObject, Memo>();

const sameLists = (a: readonly unknown[], b: readonly unknown[]): boolean =>
  a.length === b.length && a.every((each, index) => each === b[index]);

/**
 * Undefined for kinds that are no dialect policy. Memoised per object (a review's, or a cached
 * one, parsed once as it enters the cache) until a CIDR group or NetworkSet list it read changes.
 */
export function meaningsOfDialect(
  judgedKind: string,
  version: string,
  object: KubeObject,
  objects: DialectObjects,
): readonly PolicyMeaning[] | undefined {
  if (asRecord(object) === undefined) return undefined;
  const needs = dependencies(judgedKind, objects);
  const known = memo.get(object);
  if (known !== undefined && sameLists(known.dependencies, needs)) return known.meanings;
  const meanings = compileDialect(judgedKind, version, object, objects);
  if (meanings !== undefined) memo.set(object, { dependencies: needs, meanings });
  return meanings;
}
