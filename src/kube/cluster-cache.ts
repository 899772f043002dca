import type { KubeConfig, KubernetesListObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { namespaceWideEgress, parsedPolicy } from '../rules/network-policy.ts';
import { namespaceInfoOf } from '../labels.ts';
import { stringField } from '../object-access.ts';
import type { ClusterView } from '../engine/types.ts';
import type { NamespaceInfo } from '../vocabulary.ts';
import type { NetworkPolicy } from '../rules/network-policy.ts';
import { startCache, type ObjectCache } from './informer.ts';
import { kubeRest, type KubeRest } from './rest.ts';

const NAMESPACES = '/api/v1/namespaces';
const NETWORK_POLICIES = '/apis/networking.k8s.io/v1/networkpolicies';
/** The controllers a Pod's ownerReference may name: their uids prove an owner is real (no forged owners). */
const OWNERS: Readonly<Record<string, string>> = {
  ReplicaSet: '/apis/apps/v1/replicasets',
  StatefulSet: '/apis/apps/v1/statefulsets',
  DaemonSet: '/apis/apps/v1/daemonsets',
  Job: '/apis/batch/v1/jobs',
  ReplicationController: '/api/v1/replicationcontrollers',
};

// Raw JSON as the API server sends it (client-node's models rename `from` to `_from`, which the rules would not see).
const objectSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
});
type CachedObject = z.infer<typeof objectSchema>;

function rawList(rest: KubeRest, path: string): () => Promise<KubernetesListObject<CachedObject>> {
  return async () => {
    const list = await rest.list(path);
    return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: list.resourceVersion }, items: list.items.map((item) => objectSchema.parse(item)) };
  };
}

export interface ClusterCache {
  /** The engine's ClusterView, answered from memory. */
  readonly view: ClusterView;
  /** Unmet readiness conditions (each cache's first sync), for /readyz. */
  notReady(): string[];
  stop(): Promise<void>;
}

export interface ClusterCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** Injectable backoff so tests never sleep. */
  readonly delay?: (ms: number) => Promise<void>;
}

/**
 * Namespaces (environment resolution, baseline annotations) and NetworkPolicies (NP001 reads a
 * namespace's other policies) as list+watch caches. When the API server is unreachable the caches
 * keep serving the last state they saw and reconnect with backoff; before the first sync they are
 * not ready, so /readyz answers 503 and the Service sends no reviews here.
 */
export function startClusterCache(options: ClusterCacheOptions): ClusterCache {
  const rest = kubeRest(options.kubeConfig);
  const logger = options.logger.child({ component: 'cluster-cache' });
  const common = { kubeConfig: options.kubeConfig, logger, ...(options.delay === undefined ? {} : { delay: options.delay }) };
  const watch = (path: string, what: string, onEvent?: (object: CachedObject) => void): ObjectCache<CachedObject> =>
    startCache<CachedObject>({ ...common, path, list: rawList(rest, path), what, ...(onEvent === undefined ? {} : { onEvent: (_e, o) => onEvent(o) }) });
  // Cached objects are replaced, never changed in place, so what is built once per object stays right.
  const parsed = new WeakMap<CachedObject, NetworkPolicy | null>();
  const parse = (object: CachedObject): NetworkPolicy | undefined => {
    let policy = parsed.get(object);
    if (policy === undefined) parsed.set(object, (policy = parsedPolicy(object) ?? null));
    return policy ?? undefined;
  };
  // Per namespace, rebuilt on the first review after a change there.
  const byNamespace = new Map<string, { all: NetworkPolicy[]; wide: NetworkPolicy[] }>();
  const namespaces = watch(NAMESPACES, 'namespaces');
  const policies = watch(NETWORK_POLICIES, 'networkpolicies', (object) => {
    parse(object); // parsed as it enters the cache, not on a review
    byNamespace.delete(object.metadata?.namespace ?? '');
  });
  const owners = Object.entries(OWNERS).map(([kind, path]) => [kind, watch(path, path.split('/').at(-1) ?? kind)] as const);
  const ownerCaches = new Map(owners);
  const indexOf = (namespace: string): { all: NetworkPolicy[]; wide: NetworkPolicy[] } => {
    let entry = byNamespace.get(namespace);
    if (entry === undefined) {
      const all = policies.list(namespace).flatMap((object) => parse(object) ?? []);
      byNamespace.set(namespace, (entry = { all, wide: namespaceWideEgress(all) }));
    }
    return entry;
  };
  const infos = new WeakMap<CachedObject, NamespaceInfo>();
  const view: ClusterView = {
    namespace(name) {
      const object = namespaces.get(name);
      if (object === undefined) return undefined;
      let info = infos.get(object);
      if (info === undefined) infos.set(object, (info = namespaceInfoOf(object)));
      return info;
    },
    networkPolicies: (namespace) => indexOf(namespace).all,
    namespaceWideEgressPolicies: (namespace) => indexOf(namespace).wide,
    ownerUid(namespace, kind, name) {
      const uid = stringField(ownerCaches.get(kind)?.get(name, namespace), 'metadata', 'uid');
      return uid === '' ? undefined : uid;
    },
  };
  const all = [namespaces, policies, ...ownerCaches.values()];
  return {
    view,
    notReady: () => [
      ...(namespaces.ready() ? [] : ['namespaces cache not synced']),
      ...(policies.ready() ? [] : ['networkpolicies cache not synced']),
      ...owners.filter(([, cache]) => !cache.ready()).map(([kind]) => `${kind.toLowerCase()}s cache not synced`),
    ],
    async stop() {
      await Promise.all(all.map((cache) => cache.stop()));
    },
  };
}
