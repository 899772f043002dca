import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClusterView } from '../engine/types.ts';
import { namespaceInfoOf } from '../labels.ts';
import { namespaceWideEgress, parsedPolicy, type NetworkPolicy } from '../model/network-policy.ts';
import type { NamespaceInfo } from '../vocabulary.ts';
import { startCache, type CacheEvent, type CachedObject, type ObjectCache } from './informer.ts';
import { kubeRest } from './rest.ts';
import { startRangeDiscovery } from './cluster-ranges-reader.ts';
import { describeClusterRanges } from '../cluster-ranges.ts';
import { startDialectCaches } from './dialect-caches.ts';

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
  /** Every add, update and delete of Namespaces and NetworkPolicies, after the cache holds it. */
  onChange(listener: ChangeListener): void;
  /** Resolves once the Namespace and NetworkPolicy caches have synced. */
  synced(): Promise<void>;
  /** Unmet readiness conditions (each cache's first sync), for /readyz. */
  notReady(): string[];
  /** The oldest of the caches' last signs of life (event, bookmark, relist), in epoch ms. */
  lastActivity(): number;
  /** Where `clusterCIDRs: auto` found its ranges, or why it did not, for /readyz. */
  rangesDetail(): string;
  stop(): Promise<void>;
}

export interface ClusterCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** Injectable backoff so tests never sleep. */
  readonly delay?: (ms: number) => Promise<void>;
  /**
   * Follow the dialect policies and the sets they name (the webhook judges with them; default
   * true). They never hold readiness back: a kind the cluster does not serve is simply not known.
   */
  readonly dialects?: boolean;
}

interface PolicyIndex {
  readonly all: NetworkPolicy[];
  /** The DNS-relevant neighbours NP001 reads: policies selecting the whole namespace that restrict egress. */
  readonly wide: NetworkPolicy[];
}

/**
 * Namespaces (environment resolution, baseline annotations) and NetworkPolicies (NP001 reads a
 * namespace's other policies; the controller repairs its baselines) as list+watch caches, one set
 * per process. No owner caches: whether an ownerReference counts is the requester's identity.
 * NetworkPolicies are parsed as they enter the cache and indexed per namespace, so no review
 * parses a neighbour. When the API server is unreachable the caches keep serving the last state
 * they saw and reconnect with backoff; before the first sync they are not ready, so /readyz
 * answers 503 and the Service sends no reviews here.
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
  // Cached objects are replaced, never changed in place: what is built once per object stays right.
  const parsed = new WeakMap<CachedObject, NetworkPolicy | null>();
  const parse = (object: CachedObject): NetworkPolicy | undefined => {
    let policy = parsed.get(object);
    if (policy === undefined) parsed.set(object, (policy = parsedPolicy(object) ?? null));
    return policy ?? undefined;
  };
  // Per namespace, rebuilt on the first review after a change there.
  const byNamespace = new Map<string, PolicyIndex>();
  const namespaces = startCache({
    ...common,
    path: NAMESPACES,
    what: 'namespaces',
    fields: [], // labels and netguard's annotations: all environment resolution and NS rules read
    onEvent: following('Namespace'),
  });
  const networkPolicies = startCache({
    ...common,
    path: NETWORK_POLICIES,
    what: 'networkpolicies',
    fields: ['spec'],
    onEvent: (event, object) => {
      parse(object); // parsed as it enters the cache, not on a review
      byNamespace.delete(object.metadata?.namespace ?? '');
      following('NetworkPolicy')(event, object);
    },
  });
  const indexOf = (namespace: string): PolicyIndex => {
    let entry = byNamespace.get(namespace);
    if (entry === undefined) {
      const all = networkPolicies.list(namespace).flatMap((object) => parse(object) ?? []);
      byNamespace.set(namespace, (entry = { all, wide: namespaceWideEgress(all) }));
    }
    return entry;
  };
  const infos = new WeakMap<CachedObject, NamespaceInfo>();
  // Its 5-minute wait is real (unref'd): an injected backoff that resolves at once would spin it.
  const ranges = startRangeDiscovery({ rest: common.rest, logger });
  const dialects = options.dialects === false ? undefined : startDialectCaches(common, logger);
  const view: ClusterView = {
    clusterRanges: () => ranges.current(),
    ...(dialects === undefined ? {} : { dialectObjects: dialects.objects }),
    namespace(name) {
      const object = namespaces.get(name);
      if (object === undefined) return undefined;
      let info = infos.get(object);
      if (info === undefined) infos.set(object, (info = namespaceInfoOf(object)));
      return info;
    },
    networkPolicies: (namespace) => indexOf(namespace).all,
    namespaceWideEgressPolicies: (namespace) => indexOf(namespace).wide,
  };
  const all = [namespaces, networkPolicies];
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
    lastActivity: () => Math.min(...all.map((cache) => cache.lastActivity())),
    rangesDetail: () => describeClusterRanges(ranges.current()),
    async stop() {
      ranges.stop();
      await Promise.all([...all.map((cache) => cache.stop()), dialects?.stop()]);
    },
  };
}
