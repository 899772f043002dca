/** A dialect policy's meanings, compiled once per object with what the cluster holds now. */
import { asRecord } from '../../object-access.ts';
import {
  CALICO_GLOBAL_NETWORK_SET,
  CALICO_NETWORK_SET,
  CILIUM_CIDR_GROUP,
  CILIUM_CLUSTERWIDE_POLICY,
  CILIUM_POLICY,
  type KubeObject,
} from '../../vocabulary.ts';
import type { PolicyMeaning } from '../policy-meaning.ts';
import { calicoMeanings, networkSetOf } from './calico.ts';
import { cidrGroupOf, ciliumMeanings } from './cilium.ts';
import {
  clusterNetworkPolicyMeanings,
  isClusterNetworkPolicyKind,
} from './cluster-network-policy.ts';
import { isCalicoPolicyKind } from './calico.ts';

/** Objects of a judged kind the cluster holds (CIDR groups, network sets), from its caches. */
export type DialectObjects = (judgedKind: string) => readonly KubeObject[] | undefined;

const memo = new WeakMap<KubeObject, readonly PolicyMeaning[]>();

/** Undefined for kinds that are no dialect policy. */
export function meaningsOfDialect(
  judgedKind: string,
  version: string,
  object: KubeObject,
  objects: DialectObjects,
): readonly PolicyMeaning[] | undefined {
  if (asRecord(object) === undefined) return undefined;
  const known = memo.get(object);
  if (known !== undefined) return known;
  let meanings: readonly PolicyMeaning[] | undefined;
  if (judgedKind === CILIUM_POLICY || judgedKind === CILIUM_CLUSTERWIDE_POLICY)
    meanings = ciliumMeanings(object, judgedKind, version, {
      cidrGroups: objects(CILIUM_CIDR_GROUP)?.map(cidrGroupOf),
    });
  else if (isCalicoPolicyKind(judgedKind))
    meanings = calicoMeanings(object, judgedKind, version, {
      networkSets: [
        ...(objects(CALICO_NETWORK_SET) ?? []),
        ...(objects(CALICO_GLOBAL_NETWORK_SET) ?? []),
      ].map(networkSetOf),
    });
  else if (isClusterNetworkPolicyKind(judgedKind))
    meanings = clusterNetworkPolicyMeanings(object, judgedKind, version);
  if (meanings !== undefined) memo.set(object, meanings);
  return meanings;
}
