import { stringMap } from '../labels.ts';
import { isEmptySelector, parseNetworkPolicy, type NetworkPolicy } from '../rules/network-policy.ts';
import { field, stringField } from './object-access.ts';
import type { ClusterView, Finding, KubeObject, NamespaceInfo, WaiverView } from './types.ts';

/** The workload kinds a Pod's controller ownerReference may name, whose uids the cluster view keeps. */
export const OWNER_KINDS: readonly string[] = ['ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController', 'Deployment', 'CronJob'];

export const ownerKey = (namespace: string, kind: string, name: string): string => `${namespace}\u0000${kind}\u0000${name}`;

/** A cluster NetworkPolicy parsed once, on its way into a cache; undefined when its shape is invalid. */
export function parsedPolicy(object: KubeObject): NetworkPolicy | undefined {
  const parsed = parseNetworkPolicy(object);
  return parsed.ok ? parsed.policy : undefined;
}

/** The DNS-relevant neighbours: policies selecting the whole namespace that restrict egress. */
export function namespaceWideEgress(policies: readonly NetworkPolicy[]): NetworkPolicy[] {
  return policies.filter((policy) => isEmptySelector(policy.podSelector) && policy.policyTypes.has('egress'));
}

export function namespaceInfoOf(name: string, object: KubeObject): NamespaceInfo {
  return {
    name,
    labels: { 'kubernetes.io/metadata.name': name, ...stringMap(field(object, 'metadata', 'labels')) },
    annotations: stringMap(field(object, 'metadata', 'annotations')),
  };
}

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
      namespaces.set(name, namespaceInfoOf(name, object));
    } else if (kind === 'NetworkPolicy') {
      const policy = parsedPolicy(object);
      if (policy !== undefined) policies.set(namespace, [...(policies.get(namespace) ?? []), policy]);
    } else if (OWNER_KINDS.includes(kind)) {
      const uid = stringField(object, 'metadata', 'uid');
      if (uid !== '') owners.set(ownerKey(namespace, kind, name), uid);
    }
  }
  const wide = new Map([...policies].map(([namespace, list]) => [namespace, namespaceWideEgress(list)]));
  return {
    namespace: (name) => namespaces.get(name),
    networkPolicies: (namespace) => policies.get(namespace) ?? [],
    namespaceWideEgressPolicies: (namespace) => wide.get(namespace) ?? [],
    ownerUid: (namespace, kind, name) => owners.get(ownerKey(namespace, kind, name)),
  };
}

export const EMPTY_CLUSTER: ClusterView = staticClusterView([]);

/** For callers with no exception registry: nothing is waived. */
export const NO_WAIVERS: WaiverView = { apply: (_findings: Finding[]) => undefined };
