/**
 * The webhook's caches of dialect objects (docs/dialects.md): Cilium and Calico policies (for
 * cross-policy unions and set writes) and the sets their peers name (Calico NetworkSets and
 * GlobalNetworkSets, CiliumCIDRGroups). A collection the cluster does not serve (no CRD) or
 * netguard may not list is asked again every few minutes and never holds readiness back: until its
 * cache syncs, its kind is "not known" (a CIDR group reference then counts as every address).
 * Objects are cut as they arrive to what judging reads: a policy's spec, a set's labels and nets.
 */
import type { Logger } from 'pino';
import { KubeApiError } from '../errors.ts';
import { DEFAULT_LIMITS } from '../config/limits.ts';
import { meaningsOfDialect } from '../model/dialects/meanings.ts';
import { withinLimits } from '../model/dialects/size.ts';
import {
  CALICO_GLOBAL_NETWORK_SET,
  CALICO_GLOBAL_POLICY,
  CALICO_NETWORK_SET,
  CALICO_POLICY,
  CILIUM_CIDR_GROUP,
  CILIUM_CLUSTERWIDE_POLICY,
  CILIUM_POLICY,
  type KubeObject,
} from '../vocabulary.ts';
import { startCache, type CacheOptions, type CachedObject, type ObjectCache } from './informer.ts';

interface DialectCollection {
  /** The name the engine judges the kind by. */
  readonly judged: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly resource: string;
  /** What judging reads of it, beside kind, apiVersion and the slimmed metadata. */
  readonly keep: (object: CachedObject) => Record<string, unknown>;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

const specOf = (object: CachedObject): unknown =>
  (object as Record<string, unknown>)['spec'] ?? undefined;

const specField = (object: CachedObject, key: string): unknown => {
  const spec = specOf(object);
  return spec !== null && typeof spec === 'object'
    ? (spec as Record<string, unknown>)[key]
    : undefined;
};

const policy = (object: CachedObject): Record<string, unknown> => {
  const record = object as Record<string, unknown>;
  return {
    ...(record['spec'] === undefined ? {} : { spec: record['spec'] }),
    ...(record['specs'] === undefined ? {} : { specs: record['specs'] }),
  };
};
const networkSet = (object: CachedObject) => ({
  spec: { nets: strings(specField(object, 'nets')) },
});
const cidrGroup = (object: CachedObject) => ({
  spec: { externalCIDRs: strings(specField(object, 'externalCIDRs')) },
});

/** Calico's four kinds, under one API group (`projectcalico.org/v3` or `crd.projectcalico.org/v1`). */
const calico = (group: string, version: string): DialectCollection[] =>
  [
    { judged: CALICO_POLICY, kind: 'NetworkPolicy', resource: 'networkpolicies', keep: policy },
    {
      judged: CALICO_GLOBAL_POLICY,
      kind: 'GlobalNetworkPolicy',
      resource: 'globalnetworkpolicies',
      keep: policy,
    },
    { judged: CALICO_NETWORK_SET, kind: 'NetworkSet', resource: 'networksets', keep: networkSet },
    {
      judged: CALICO_GLOBAL_NETWORK_SET,
      kind: 'GlobalNetworkSet',
      resource: 'globalnetworksets',
      keep: networkSet,
    },
  ].map((each) => ({ ...each, apiVersion: `${group}/${version}` }));

/**
 * Every collection followed, in order of preference per kind: where the Calico API server serves
 * `projectcalico.org/v3`, its objects are read, not the `crd.projectcalico.org/v1` storage behind it.
 */
export const DIALECT_COLLECTIONS: readonly DialectCollection[] = [
  {
    judged: CILIUM_POLICY,
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    resource: 'ciliumnetworkpolicies',
    keep: policy,
  },
  {
    judged: CILIUM_CLUSTERWIDE_POLICY,
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumClusterwideNetworkPolicy',
    resource: 'ciliumclusterwidenetworkpolicies',
    keep: policy,
  },
  {
    judged: CILIUM_CIDR_GROUP,
    apiVersion: 'cilium.io/v2alpha1',
    kind: 'CiliumCIDRGroup',
    resource: 'ciliumcidrgroups',
    keep: cidrGroup,
  },
  // Newer Cilium releases serve CIDR groups as cilium.io/v2 too (the same objects).
  {
    judged: CILIUM_CIDR_GROUP,
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumCIDRGroup',
    resource: 'ciliumcidrgroups',
    keep: cidrGroup,
  },
  ...calico('projectcalico.org', 'v3'),
  ...calico('crd.projectcalico.org', 'v1'),
];

export const collectionPath = (collection: DialectCollection): string =>
  `/apis/${collection.apiVersion}/${collection.resource}`;

/** How long a collection the cluster does not serve waits before it is asked again. */
const PROBE_INTERVAL_MS = 5 * 60_000;

export interface DialectCaches {
  /** The objects of a judged kind (all, or one namespace's); undefined while not known. */
  objects(judgedKind: string, namespace?: string): readonly KubeObject[] | undefined;
  stop(): Promise<void>;
}

type Common = Pick<CacheOptions, 'kubeConfig' | 'rest' | 'logger' | 'delay'>;

interface Followed {
  readonly collection: DialectCollection;
  cache: ObjectCache<CachedObject> | undefined;
}

export function startDialectCaches(common: Common, logger: Logger): DialectCaches {
  const followed: Followed[] = DIALECT_COLLECTIONS.map((collection) => ({
    collection,
    cache: undefined,
  }));
  // Stable arrays per kind and namespace until that kind changes: meanings compiled against them stay right.
  const lists = new Map<string, Map<string, readonly KubeObject[] | undefined>>();
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();

  const objects = (judged: string, namespace?: string): readonly KubeObject[] | undefined => {
    let byNamespace = lists.get(judged);
    if (byNamespace === undefined) lists.set(judged, (byNamespace = new Map()));
    const key = namespace ?? '\n';
    if (byNamespace.has(key)) return byNamespace.get(key);
    const source = followed.find(
      (each) => each.collection.judged === judged && each.cache?.ready() === true,
    );
    const list = source?.cache?.list(namespace) as readonly KubeObject[] | undefined;
    byNamespace.set(key, list === undefined ? undefined : [...list]);
    return byNamespace.get(key);
  };

  const start = (entry: Followed): void => {
    const { collection } = entry;
    const stamp = (object: CachedObject): CachedObject => {
      const record = object as Record<string, unknown>;
      return {
        apiVersion: collection.apiVersion,
        kind: collection.kind,
        ...(record['metadata'] === undefined ? {} : { metadata: object.metadata }),
        ...collection.keep(object),
      } as CachedObject;
    };
    entry.cache = startCache({
      ...common,
      path: collectionPath(collection),
      what: `${collection.resource}.${collection.apiVersion}`,
      fields: ['spec', 'specs'],
      shape: stamp,
      onEvent: (_event, object) => {
        // Only the lists the object is in change: its namespace's, and the cluster-wide one.
        const byNamespace = lists.get(collection.judged);
        byNamespace?.delete(object.metadata?.namespace ?? '\n');
        byNamespace?.delete('\n');
        // Parsed as it enters the cache (recompiled only when a set it reads changes); a policy
        // past NP013's default limits is left uncompiled (the rules skip it too).
        if (!withinLimits(collection.judged, object, DEFAULT_LIMITS)) return;
        meaningsOfDialect(
          collection.judged,
          collection.apiVersion.split('/')[1] ?? '',
          object as KubeObject,
          objects,
        );
      },
    });
    void entry.cache.synced().then(() => lists.delete(collection.judged));
  };

  const probe = async (entry: Followed): Promise<void> => {
    if (stopped) return;
    try {
      await common.rest.listPage(collectionPath(entry.collection), 1, undefined);
    } catch (err) {
      const unserved = err instanceof KubeApiError && (err.code === 404 || err.code === 403);
      const what = collectionPath(entry.collection);
      if (unserved)
        logger.debug({ what }, 'dialect collection not served or not allowed; asking again later');
      else logger.warn({ err, what }, 'dialect collection probe failed; asking again later');
      const timer = setTimeout(() => {
        timers.delete(timer);
        void probe(entry);
      }, PROBE_INTERVAL_MS);
      timer.unref();
      timers.add(timer);
      return;
    }
    if (!stopped) start(entry);
  };
  for (const entry of followed) void probe(entry);

  return {
    objects,
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.all(followed.map((entry) => entry.cache?.stop()));
    },
  };
}
