import type { KubeConfig, KubernetesListObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { field } from '../object-access.ts';
import type { ClusterView } from '../engine/types.ts';
import type { KubeObject, NamespaceInfo } from '../vocabulary.ts';
import { namespaceInfoOf } from '../labels.ts';
import { startCache, type ObjectCache } from './informer.ts';
import { kubeRest, type KubeRest } from './rest.ts';

const NAMESPACES = '/api/v1/namespaces';
const NETWORK_POLICIES = '/apis/networking.k8s.io/v1/networkpolicies';

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
  const namespaces: ObjectCache<CachedObject> = startCache<CachedObject>({ ...common, path: NAMESPACES, list: rawList(rest, NAMESPACES), what: 'namespaces' });
  const policies: ObjectCache<CachedObject> = startCache<CachedObject>({ ...common, path: NETWORK_POLICIES, list: rawList(rest, NETWORK_POLICIES), what: 'networkpolicies' });
  // Cached objects are replaced, never changed in place, so a view built once per object stays right.
  const infos = new WeakMap<CachedObject, NamespaceInfo>();
  const view: ClusterView = {
    namespace(name) {
      const object = namespaces.get(name);
      if (object === undefined) return undefined;
      let info = infos.get(object);
      if (info === undefined) infos.set(object, (info = namespaceInfoOf(object)));
      return info;
    },
    networkPolicies: (namespace) => policies.list(namespace),
  };
  return {
    view,
    notReady: () => [
      ...(namespaces.ready() ? [] : ['namespaces cache not synced']),
      ...(policies.ready() ? [] : ['networkpolicies cache not synced']),
    ],
    async stop() {
      await Promise.all([namespaces.stop(), policies.stop()]);
    },
  };
}
