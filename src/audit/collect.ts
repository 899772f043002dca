import { KubeApiError } from '../errors.ts';
import { CLUSTER_SOURCES } from '../exceptions/sources.ts';
import type { ListedSource } from '../world.ts';
import { listAll, type KubeRest, type Shape } from '../kube/rest.ts';
import { droppedBeforeParse, slimWorkload } from '../kube/slim.ts';
import { isPodKind, type KubeObject } from '../vocabulary.ts';
import { asRecord } from '../object-access.ts';
import { cniEvidence } from '../cni.ts';
import {
  apiVersionOf,
  OWNERS_FIRST as OWNERS_FIRST_KINDS,
  SERVED_KINDS,
  WORKLOAD_KINDS,
} from '../model/kinds.ts';

/** What audit reads from a cluster: everything it judges, plus the DaemonSets that reveal the CNI. */
export interface ClusterSnapshot {
  readonly namespaces: readonly KubeObject[];
  /** Pods, workloads and NetworkPolicies, each with `kind` and `apiVersion` set. */
  readonly objects: readonly KubeObject[];
  readonly exceptions: readonly ListedSource[];
  /** All namespaces, even with --namespace: the CNI runs in kube-system. */
  readonly daemonSets: readonly KubeObject[];
  /** Kinds that could not be listed (e.g. the GuardrailException CRD is not installed). */
  readonly unavailable: readonly string[];
}

interface Collection {
  readonly kind: string;
  readonly apiVersion: string;
  readonly resource: string;
}

const api = (apiVersion: string): string =>
  apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;

/** Pods, workloads and NetworkPolicies, each as model/kinds.ts serves it. */
export const JUDGED: readonly Collection[] = [
  ...WORKLOAD_KINDS,
  ...SERVED_KINDS.filter((row) => row.judgedAs === 'NetworkPolicy'),
].map((row) => ({
  kind: row.kind,
  apiVersion: apiVersionOf(row.group, row.versions[0] ?? ''),
  resource: row.resource,
}));
/**
 * Policy dialects (docs/dialects.md), and the objects their peers name. Each is listed only where
 * the cluster serves it: a missing CRD (404) is the normal case on another CNI.
 */
export const DIALECTS: readonly (Collection & { readonly clusterScoped: boolean })[] = [
  {
    kind: 'CiliumNetworkPolicy',
    apiVersion: 'cilium.io/v2',
    resource: 'ciliumnetworkpolicies',
    clusterScoped: false,
  },
  {
    kind: 'CiliumClusterwideNetworkPolicy',
    apiVersion: 'cilium.io/v2',
    resource: 'ciliumclusterwidenetworkpolicies',
    clusterScoped: true,
  },
  {
    kind: 'CiliumCIDRGroup',
    apiVersion: 'cilium.io/v2alpha1',
    resource: 'ciliumcidrgroups',
    clusterScoped: true,
  },
  {
    kind: 'NetworkPolicy',
    apiVersion: 'crd.projectcalico.org/v1',
    resource: 'networkpolicies',
    clusterScoped: false,
  },
  {
    kind: 'GlobalNetworkPolicy',
    apiVersion: 'crd.projectcalico.org/v1',
    resource: 'globalnetworkpolicies',
    clusterScoped: true,
  },
  {
    kind: 'NetworkSet',
    apiVersion: 'crd.projectcalico.org/v1',
    resource: 'networksets',
    clusterScoped: false,
  },
  {
    kind: 'GlobalNetworkSet',
    apiVersion: 'crd.projectcalico.org/v1',
    resource: 'globalnetworksets',
    clusterScoped: true,
  },
  {
    kind: 'ClusterNetworkPolicy',
    apiVersion: 'policy.networking.k8s.io/v1alpha2',
    resource: 'clusternetworkpolicies',
    clusterScoped: true,
  },
  {
    kind: 'AdminNetworkPolicy',
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    resource: 'adminnetworkpolicies',
    clusterScoped: true,
  },
  {
    kind: 'BaselineAdminNetworkPolicy',
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    resource: 'baselineadminnetworkpolicies',
    clusterScoped: true,
  },
];

/** The dialect objects this cluster serves; a kind it does not serve lists nothing. */
async function collectDialects(rest: KubeRest, options: CollectOptions): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const collection of DIALECTS) {
    try {
      objects.push(
        ...(await listCollection(
          rest,
          collection,
          collection.clusterScoped ? undefined : options.namespace,
          options,
        )),
      );
    } catch (err) {
      if (!(err instanceof KubeApiError && err.code === 404)) throw err;
    }
  }
  return objects;
}

/** Items per list request when audit and the PolicyReport scan page through workloads. */
export const AUDIT_PAGE_SIZE = 250;

export interface CollectOptions {
  /** Only this namespace's objects (the Namespace list and DaemonSets stay cluster-wide). */
  readonly namespace?: string | undefined;
  readonly pageSize?: number;
  readonly onProgress?: (what: string, count: number) => void;
}

/** List items come without kind and apiVersion; the engine needs both. */
const typed = (collection: Collection, items: readonly KubeObject[]): KubeObject[] =>
  items.map((item) => ({ ...item, kind: collection.kind, apiVersion: collection.apiVersion }));

async function listCollection(
  rest: KubeRest,
  collection: Collection,
  namespace: string | undefined,
  options: CollectOptions,
): Promise<KubeObject[]> {
  const scope = namespace === undefined ? '' : `/namespaces/${namespace}`;
  const items = await listAll(
    rest,
    `${api(collection.apiVersion)}${scope}/${collection.resource}`,
    {
      limit: options.pageSize ?? 500,
      onPage: (count) => options.onProgress?.(collection.resource, count),
    },
  );
  return typed(collection, items);
}

const listNamespaces = (rest: KubeRest, options: CollectOptions): Promise<KubeObject[]> =>
  listCollection(
    rest,
    { kind: 'Namespace', apiVersion: 'v1', resource: 'namespaces' },
    undefined,
    options,
  );

/**
 * Each cluster exception source (exceptions/sources.ts), listed once; a source whose kind the
 * cluster does not serve (404: its CRD is not installed) lists nothing and is named unavailable.
 */
async function listExceptions(
  rest: KubeRest,
  options: CollectOptions,
): Promise<{ exceptions: ListedSource[]; unavailable: string[] }> {
  const exceptions: ListedSource[] = [];
  const unavailable: string[] = [];
  for (const source of CLUSTER_SOURCES) {
    try {
      const objects = await listAll(rest, source.path(options.namespace), {
        limit: options.pageSize ?? 500,
        onPage: (count) => options.onProgress?.(source.what, count),
      });
      exceptions.push({ source, objects });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.code === 404)) throw err;
      unavailable.push(source.apiObject?.kind ?? source.what);
    }
  }
  return { exceptions, unavailable };
}

/** Lists everything audit needs, page by page. Only a missing GuardrailException CRD is tolerated. */
export async function collectCluster(
  rest: KubeRest,
  options: CollectOptions = {},
): Promise<ClusterSnapshot> {
  const namespaces = await listNamespaces(rest, options);
  const objects: KubeObject[] = [];
  for (const collection of JUDGED)
    objects.push(...(await listCollection(rest, collection, options.namespace, options)));
  objects.push(...(await collectDialects(rest, options)));
  const daemonSets =
    options.namespace === undefined
      ? objects.filter((object) => object['kind'] === 'DaemonSet')
      : await listCollection(
          rest,
          { kind: 'DaemonSet', apiVersion: 'apps/v1', resource: 'daemonsets' },
          undefined,
          options,
        );
  const { exceptions, unavailable } = await listExceptions(rest, options);
  return { namespaces, objects, exceptions, daemonSets, unavailable };
}

/** Workloads in an order that lists every owner before what it owns (model/kinds.ts). */
const OWNERS_FIRST: readonly string[] = OWNERS_FIRST_KINDS.map((row) => row.kind);
export const PAGED: readonly Collection[] = OWNERS_FIRST.flatMap((kind) =>
  JUDGED.filter((collection) => collection.kind === kind),
);

/** Everything audit needs before judging a workload: Namespaces, NetworkPolicies, waivers, the CNI. */
export interface AuditListing {
  readonly namespaces: readonly KubeObject[];
  readonly policies: readonly KubeObject[];
  readonly exceptions: readonly ListedSource[];
  /** Of every DaemonSet, cluster-wide, only what detectCni reads of known CNIs (cniEvidence). */
  readonly cniDaemonSets: readonly KubeObject[];
  readonly unavailable: readonly string[];
}

/**
 * Calls `onPage` with each page of a collection (`limit`/`continue`), typed, before fetching the
 * next. A continue token that expired (410) lists again from the start once, as kubectl does;
 * the objects `seen` (by uid) are then left out, so no object is given twice.
 */
export async function forEachPage(
  rest: KubeRest,
  collection: Collection,
  namespace: string | undefined,
  options: CollectOptions,
  onPage: (objects: KubeObject[]) => void,
): Promise<void> {
  const scope = namespace === undefined ? '' : `/namespaces/${namespace}`;
  const path = `${api(collection.apiVersion)}${scope}/${collection.resource}`;
  const seen = new Set<string>();
  const limit = options.pageSize ?? AUDIT_PAGE_SIZE;
  for (let restart = 0; ; restart++) {
    let token: string | undefined;
    let count = 0;
    try {
      do {
        const page = await rest.listPage(path, limit, token, shapeOf(collection));
        const fresh = page.items.filter((item) => {
          const uid = String(asRecord(item['metadata'])?.['uid'] ?? '');
          if (uid === '') return true;
          if (seen.has(uid)) return false;
          seen.add(uid);
          return true;
        });
        count += page.items.length;
        onPage(typed(collection, fresh));
        options.onProgress?.(collection.resource, count);
        token = page.continueToken;
      } while (token !== undefined);
      return;
    } catch (err) {
      if (
        !(err instanceof KubeApiError && err.code === 410 && token !== undefined && restart === 0)
      )
        throw err;
    }
  }
}

/**
 * Pods and workloads are kept as judging reads them (slimWorkload), each as it arrives: a page of
 * 250 Jobs of 1.2 MB each would otherwise be held whole. Other kinds are kept as listed.
 */
function shapeOf(collection: Collection): Shape | undefined {
  const kind = collection.kind;
  return JUDGED.includes(collection) && isPodKind(kind)
    ? { keep: (object) => slimWorkload(object, kind), dropped: droppedBeforeParse(kind) }
    : undefined;
}

/** Lists what judging needs before the first workload page; DaemonSets only as CNI evidence. */
export async function collectAuditListing(
  rest: KubeRest,
  options: CollectOptions = {},
): Promise<AuditListing> {
  const namespaces = await listNamespaces(rest, options);
  const policies: KubeObject[] = [];
  const policyCollection = JUDGED.find((collection) => collection.kind === 'NetworkPolicy');
  if (policyCollection !== undefined)
    await forEachPage(rest, policyCollection, options.namespace, options, (page) =>
      policies.push(...page),
    );
  // Dialect policies and the sets they name: judged, and the context their neighbours are judged in.
  policies.push(...(await collectDialects(rest, options)));
  const cniDaemonSets: KubeObject[] = [];
  await forEachPage(
    rest,
    { kind: 'DaemonSet', apiVersion: 'apps/v1', resource: 'daemonsets' },
    undefined,
    options,
    (page) => {
      for (const daemonSet of page) {
        const evidence = cniEvidence(daemonSet);
        if (evidence !== undefined) cniDaemonSets.push(evidence);
      }
    },
  );
  const { exceptions, unavailable } = await listExceptions(rest, options);
  return { namespaces, policies, exceptions, cniDaemonSets, unavailable };
}
