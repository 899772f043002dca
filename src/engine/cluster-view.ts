import { clusterRangesFrom, OFFLINE_RANGES } from '../cluster-ranges.ts';
import { namespaceInfoOf } from '../labels.ts';
import { namespaceWideEgress, parsedPolicy, type NetworkPolicy } from '../model/network-policy.ts';
import { stringField } from '../object-access.ts';
import type { ClusterView, Finding, WaiverView } from './types.ts';
import {
  CALICO_GLOBAL_NETWORK_SET,
  CALICO_NETWORK_SET,
  CILIUM_CIDR_GROUP,
  DIALECT_POLICY_KINDS,
  type KubeObject,
  type NamespaceInfo,
} from '../vocabulary.ts';
import { gvkOfObject, judgedKindOf, shownKind } from '../model/dialects/gvk.ts';

/** Dialect objects a cluster view keeps: the sets policies name, and the policies (unions). */
const DIALECT_OBJECT_KINDS: readonly string[] = [
  CILIUM_CIDR_GROUP,
  CALICO_NETWORK_SET,
  CALICO_GLOBAL_NETWORK_SET,
  ...DIALECT_POLICY_KINDS,
];

const NONE: readonly KubeObject[] = [];

/** Per kind, all objects and (built on first ask) each namespace's, as stable arrays. */
function dialectIndex(
  byKind: ReadonlyMap<string, readonly KubeObject[]>,
): (kind: string, namespace?: string) => readonly KubeObject[] {
  const byNamespace = new Map<string, readonly KubeObject[]>();
  return (kind, namespace) => {
    const all = byKind.get(kind) ?? NONE;
    if (namespace === undefined) return all;
    const key = `${kind}\n${namespace}`;
    let list = byNamespace.get(key);
    if (list === undefined)
      byNamespace.set(
        key,
        (list = all.filter((object) => stringField(object, 'metadata', 'namespace') === namespace)),
      );
    return list;
  };
}

/** A cluster view over objects already in memory: the other documents in `check`, audit's listing, or test data. */
export function staticClusterView(objects: readonly KubeObject[]): ClusterView {
  const namespaces = new Map<string, NamespaceInfo>();
  const policies = new Map<string, NetworkPolicy[]>();
  const dialect = new Map<string, KubeObject[]>();
  for (const object of objects) {
    // By group, version and kind: a Calico NetworkPolicy is no Kubernetes neighbour.
    const judged = judgedKindOf(gvkOfObject(object));
    const kind = shownKind(judged, stringField(object, 'kind'));
    if (DIALECT_OBJECT_KINDS.includes(judged))
      dialect.set(judged, [...(dialect.get(judged) ?? []), object]);
    const name = stringField(object, 'metadata', 'name');
    const namespace = stringField(object, 'metadata', 'namespace');
    if (kind === 'Namespace') {
      namespaces.set(name, namespaceInfoOf(object));
    } else if (kind === 'NetworkPolicy') {
      const policy = parsedPolicy(object);
      if (policy !== undefined)
        policies.set(namespace, [...(policies.get(namespace) ?? []), policy]);
    }
  }
  const wide = new Map(
    [...policies].map(([namespace, list]) => [namespace, namespaceWideEgress(list)]),
  );
  const ranges = clusterRangesFrom(objects);
  // Offline (check), a manifest set that holds no range source says so, not "none answered".
  const clusterRanges = ranges.ranges.length === 0 ? OFFLINE_RANGES : ranges;
  return {
    clusterRanges: () => clusterRanges,
    namespace: (name) => namespaces.get(name),
    networkPolicies: (namespace) => policies.get(namespace) ?? [],
    namespaceWideEgressPolicies: (namespace) => wide.get(namespace) ?? [],
    dialectObjects: dialectIndex(dialect),
  };
}

export const EMPTY_CLUSTER: ClusterView = staticClusterView([]);

/** For callers with no exception registry: nothing is waived. */
export const NO_WAIVERS: WaiverView = {
  apply: (_findings: Finding[]) => undefined,
  lapsedRules: () => new Set(),
  namespaceWaiver: () => undefined,
};
