import { namespaceInfoOf } from '../labels.ts';
import { stringField } from '../object-access.ts';
import type { ClusterView, Finding, WaiverView } from './types.ts';
import type { KubeObject, NamespaceInfo } from '../vocabulary.ts';

/** A cluster view over objects already in memory: the other documents in `check`, or test data. */
export function staticClusterView(objects: readonly KubeObject[]): ClusterView {
  const namespaces = new Map<string, NamespaceInfo>();
  const policies = new Map<string, KubeObject[]>();
  for (const object of objects) {
    const kind = stringField(object, 'kind');
    const name = stringField(object, 'metadata', 'name');
    if (kind === 'Namespace') {
      namespaces.set(name, namespaceInfoOf(object));
    } else if (kind === 'NetworkPolicy') {
      const namespace = stringField(object, 'metadata', 'namespace');
      policies.set(namespace, [...(policies.get(namespace) ?? []), object]);
    }
  }
  return {
    namespace: (name) => namespaces.get(name),
    networkPolicies: (namespace) => policies.get(namespace) ?? [],
  };
}

export const EMPTY_CLUSTER: ClusterView = staticClusterView([]);

/** For callers with no exception registry: nothing is waived. */
export const NO_WAIVERS: WaiverView = { apply: (_findings: Finding[]) => undefined, lapsedRules: () => new Set() };
