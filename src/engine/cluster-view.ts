import { namespaceInfoOf } from '../labels.ts';
import { namespaceWideEgress, parsedPolicy, type NetworkPolicy } from '../model/network-policy.ts';
import { stringField } from '../object-access.ts';
import type { ClusterView, Finding, WaiverView } from './types.ts';
import type { KubeObject, NamespaceInfo } from '../vocabulary.ts';

/** A cluster view over objects already in memory: the other documents in `check`, audit's listing, or test data. */
export function staticClusterView(objects: readonly KubeObject[]): ClusterView {
  const namespaces = new Map<string, NamespaceInfo>();
  const policies = new Map<string, NetworkPolicy[]>();
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
    }
  }
  const wide = new Map(
    [...policies].map(([namespace, list]) => [namespace, namespaceWideEgress(list)]),
  );
  return {
    namespace: (name) => namespaces.get(name),
    networkPolicies: (namespace) => policies.get(namespace) ?? [],
    namespaceWideEgressPolicies: (namespace) => wide.get(namespace) ?? [],
  };
}

export const EMPTY_CLUSTER: ClusterView = staticClusterView([]);

/** For callers with no exception registry: nothing is waived. */
export const NO_WAIVERS: WaiverView = {
  apply: (_findings: Finding[]) => undefined,
  lapsedRules: () => new Set(),
  namespaceWaiver: () => undefined,
};
