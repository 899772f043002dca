import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClusterView } from '../engine/types.ts';
import type { NamespaceInfo } from '../vocabulary.ts';
import { namespaceInfoOf } from '../labels.ts';
import { startCache, type CacheEvent, type CachedObject, type ObjectCache } from './informer.ts';
import { kubeRest } from './rest.ts';

const NAMESPACES = '/api/v1/namespaces';
const NETWORK_POLICIES = '/apis/networking.k8s.io/v1/networkpolicies';

export type CachedKind = 'Namespace' | 'NetworkPolicy';
export type ChangeListener = (kind: CachedKind, event: CacheEvent, object: CachedObject) => void;

export interface ClusterCache {
  /** The engine's ClusterView, answered from memory. */
  readonly view: ClusterView;
  /** The raw objects, for the baseline controller (the same caches the webhook reads). */
  readonly namespaces: ObjectCache<CachedObject>;
  readonly networkPolicies: ObjectCache<CachedObject>;
  /** Every add, update and delete of either cache, after the cache holds it. */
  onChange(listener: ChangeListener): void;
  /** Resolves once both caches have synced. */
  synced(): Promise<void>;
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
 * namespace's other policies; the controller repairs its baselines) as list+watch caches, one set
 * per process. When the API server is unreachable the caches keep serving the last state they saw
 * and reconnect with backoff; before the first sync they are not ready, so /readyz answers 503
 * and the Service sends no reviews here.
 */
export function startClusterCache(options: ClusterCacheOptions): ClusterCache {
  const logger = options.logger.child({ component: 'cluster-cache' });
  const listeners: ChangeListener[] = [];
  const common = {
    kubeConfig: options.kubeConfig,
    rest: kubeRest(options.kubeConfig),
    logger,
    ...(options.delay === undefined ? {} : { delay: options.delay }),
  };
  const following = (kind: CachedKind) => (event: CacheEvent, object: CachedObject) => {
    for (const listener of listeners) listener(kind, event, object);
  };
  const namespaces = startCache({
    ...common,
    path: NAMESPACES,
    what: 'namespaces',
    onEvent: following('Namespace'),
  });
  const networkPolicies = startCache({
    ...common,
    path: NETWORK_POLICIES,
    what: 'networkpolicies',
    onEvent: following('NetworkPolicy'),
  });
  // Cached objects are replaced, never changed in place: a view built once per object stays right.
  const infos = new WeakMap<CachedObject, NamespaceInfo>();
  const view: ClusterView = {
    namespace(name) {
      const object = namespaces.get(name);
      if (object === undefined) return undefined;
      let info = infos.get(object);
      if (info === undefined) infos.set(object, (info = namespaceInfoOf(object)));
      return info;
    },
    networkPolicies: (namespace) => networkPolicies.list(namespace),
  };
  return {
    view,
    namespaces,
    networkPolicies,
    onChange: (listener) => void listeners.push(listener),
    synced: async () => {
      await Promise.all([namespaces.synced(), networkPolicies.synced()]);
    },
    notReady: () => [
      ...(namespaces.ready() ? [] : ['namespaces cache not synced']),
      ...(networkPolicies.ready() ? [] : ['networkpolicies cache not synced']),
    ],
    async stop() {
      await Promise.all([namespaces.stop(), networkPolicies.stop()]);
    },
  };
}
