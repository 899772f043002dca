import { clusterRangesFrom, OFFLINE_RANGES } from '../cluster-ranges.ts';
import { namespaceInfoOf } from '../labels.ts';
import { namespaceWideEgress, parsedPolicy, type NetworkPolicy } from '../rules/network-policy.ts';
import { stringField } from '../object-access.ts';
import type { ClusterView, Finding, WaiverView } from './types.ts';
import type { KubeObject, NamespaceInfo } from '../vocabulary.ts';

/** The workload kinds a Pod's controller ownerReference may name, whose uids the cluster view keeps. */
export const OWNER_KINDS: readonly string[] = [
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'ReplicationController',
  'Deployment',
  'CronJob',
];

export const ownerKey = (namespace: string, kind: string, name: string): string =>
  `${namespace}\u0000${kind}\u0000${name}`;

/** A cluster view over objects already in memory: the other documents in `check`, audit's listing, or test data. */
export function staticClusterView(objects: readonly KubeObject[]): ClusterView {
  const namespaces = new Map<string, NamespaceInfo>();
  const policies = new Map<string, NetworkPolicy[]>();
  const owners = new Map<string, string>();
  for (const object of objects) {
    const kind = stringField(object, 'kind');
    const name = stringField(object, 'metadata', 'name');
    const namespace = stringField(object, 'metadata', 'namespace');
    if (kind === 'Namespace') {
      namespaces.set(name, namespaceInfoOf(object));
    } else if (kind === 'NetworkPolicy') {
      const policy = parsedPolicy(object);
      if (policy !== undefined)
        policies.set(namespace, [...(policies.get(namespace) ?? []), policy]);
    } else if (OWNER_KINDS.includes(kind)) {
      const uid = stringField(object, 'metadata', 'uid');
      if (uid !== '') owners.set(ownerKey(namespace, kind, name), uid);
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
    ownerUid: (namespace, kind, name) => owners.get(ownerKey(namespace, kind, name)),
  };
}

export const EMPTY_CLUSTER: ClusterView = staticClusterView([]);

/** For callers with no exception registry: nothing is waived. */
export const NO_WAIVERS: WaiverView = {
  apply: (_findings: Finding[]) => undefined,
  lapsedRules: () => new Set(),
};
