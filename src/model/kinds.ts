/**
 * The one table of the kinds netguard knows, by group, version and kind as the API server serves
 * them: the name the engine judges each by, its resource and scope, and for workloads where the
 * pod template sits and who owns them. Every list of kinds reads it: the judged-kind lookup
 * (dialects/gvk.ts), pod templates, audit's listing and paging order, audit's owner reports,
 * waiver matching, the built-in controllers' trust, expiry Events' target paths, reach's
 * precedence, and the webhook routes (rules/webhook-routes.ts) that deploy/ is tested against.
 */
import {
  ADMIN_NETWORK_POLICY,
  BASELINE_ADMIN_NETWORK_POLICY,
  CALICO_GLOBAL_NETWORK_SET,
  CALICO_GLOBAL_POLICY,
  CALICO_NETWORK_SET,
  CALICO_POLICY,
  CILIUM_CIDR_GROUP,
  CILIUM_CLUSTERWIDE_POLICY,
  CILIUM_POLICY,
  CLUSTER_NETWORK_POLICY,
  type PodKind,
} from '../vocabulary.ts';
import {
  EXCEPTION_GROUP,
  EXCEPTION_KIND,
  EXCEPTION_PLURAL,
  EXCEPTION_VERSION,
} from './guardrail-exception.ts';

export type KindScope = 'Namespaced' | 'Cluster';

/** A kind as served: one group, the versions netguard reads, the kind and resource names. */
export interface ServedKind {
  /** The name the engine, the rules and waivers know it by (Calico's: `NetworkPolicy.projectcalico.org`). */
  readonly judgedAs: string;
  readonly group: string;
  readonly versions: readonly string[];
  readonly kind: string;
  readonly resource: string;
  readonly scope: KindScope;
  /** kubectl's short names (`netpol`), which `exception request --target` accepts too. */
  readonly shortNames: readonly string[];
}

/** A kind that runs pods: a Pod, or a workload with a pod template. */
export interface WorkloadKind extends ServedKind {
  readonly judgedAs: PodKind;
  /** Where it keeps the pod it creates; empty for a Pod, its own template. */
  readonly podTemplate: readonly string[];
  /** The kinds whose built-in controller creates it (a Pod: ReplicaSet, ...): audit reports it at them. */
  readonly ownedBy: readonly PodKind[];
  /** The kube-system controller that creates what it owns (`deployment-controller` writes ReplicaSets). */
  readonly controller: string | undefined;
}

type WorkloadRow = Pick<WorkloadKind, 'group' | 'resource' | 'podTemplate' | 'ownedBy'> &
  Partial<Pick<WorkloadKind, 'controller' | 'shortNames'>> & { readonly kind: PodKind };

/** Workloads are namespaced, served at v1 and judged by their own kind name. */
const workload = (row: WorkloadRow): WorkloadKind => ({
  judgedAs: row.kind,
  versions: ['v1'],
  scope: 'Namespaced',
  controller: undefined,
  shortNames: [],
  ...row,
});

const TEMPLATE = ['spec', 'template'];

/** Every workload kind, in the vocabulary's order (`POD_KINDS`). */
export const WORKLOAD_KINDS: readonly WorkloadKind[] = [
  workload({
    kind: 'Pod',
    group: '',
    resource: 'pods',
    podTemplate: [],
    ownedBy: ['ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController'],
    shortNames: ['po'],
  }),
  workload({
    kind: 'Deployment',
    group: 'apps',
    resource: 'deployments',
    podTemplate: TEMPLATE,
    ownedBy: [],
    controller: 'deployment-controller',
    shortNames: ['deploy'],
  }),
  workload({
    kind: 'StatefulSet',
    group: 'apps',
    resource: 'statefulsets',
    podTemplate: TEMPLATE,
    ownedBy: [],
    controller: 'statefulset-controller',
    shortNames: ['sts'],
  }),
  workload({
    kind: 'DaemonSet',
    group: 'apps',
    resource: 'daemonsets',
    podTemplate: TEMPLATE,
    ownedBy: [],
    controller: 'daemon-set-controller',
    shortNames: ['ds'],
  }),
  workload({
    kind: 'ReplicaSet',
    group: 'apps',
    resource: 'replicasets',
    podTemplate: TEMPLATE,
    ownedBy: ['Deployment'],
    controller: 'replicaset-controller',
    shortNames: ['rs'],
  }),
  workload({
    kind: 'ReplicationController',
    group: '',
    resource: 'replicationcontrollers',
    podTemplate: TEMPLATE,
    ownedBy: [],
    controller: 'replication-controller',
    shortNames: ['rc'],
  }),
  workload({
    kind: 'Job',
    group: 'batch',
    resource: 'jobs',
    podTemplate: TEMPLATE,
    ownedBy: ['CronJob'],
    controller: 'job-controller',
  }),
  workload({
    kind: 'CronJob',
    group: 'batch',
    resource: 'cronjobs',
    podTemplate: ['spec', 'jobTemplate', 'spec', 'template'],
    ownedBy: [],
    controller: 'cronjob-controller',
    shortNames: ['cj'],
  }),
];

type ServedRow = Omit<ServedKind, 'judgedAs' | 'shortNames'> &
  Partial<Pick<ServedKind, 'judgedAs' | 'shortNames'>>;

/** A row; the judged name is the kind's own unless a dialect's collides. */
const served = (row: ServedRow): ServedKind => ({ judgedAs: row.kind, shortNames: [], ...row });

/** Calico serves the same kinds under two groups. */
const CALICO_GROUPS: readonly (readonly [string, string])[] = [
  ['projectcalico.org', 'v3'],
  ['crd.projectcalico.org', 'v1'],
];
type CalicoRow = Omit<ServedRow, 'group' | 'versions'>;
const CALICO_POLICIES: readonly CalicoRow[] = [
  {
    judgedAs: CALICO_POLICY,
    kind: 'NetworkPolicy',
    resource: 'networkpolicies',
    scope: 'Namespaced',
  },
  {
    judgedAs: CALICO_GLOBAL_POLICY,
    kind: 'GlobalNetworkPolicy',
    resource: 'globalnetworkpolicies',
    scope: 'Cluster',
  },
];
const CALICO_SETS: readonly CalicoRow[] = [
  {
    judgedAs: CALICO_NETWORK_SET,
    kind: 'NetworkSet',
    resource: 'networksets',
    scope: 'Namespaced',
  },
  {
    judgedAs: CALICO_GLOBAL_NETWORK_SET,
    kind: 'GlobalNetworkSet',
    resource: 'globalnetworksets',
    scope: 'Cluster',
  },
];
const calico = (rows: readonly CalicoRow[]): ServedKind[] =>
  CALICO_GROUPS.flatMap(([group, version]) =>
    rows.map((row) => served({ ...row, group, versions: [version] })),
  );

/**
 * Every kind netguard knows: workloads, NetworkPolicies, Namespaces, GuardrailExceptions, the
 * policy dialects, then the objects their peers name ([dialects.md](../../docs/dialects.md)). In
 * this order a waiver's kinds are offered (EX003) and the CRD enumerates them. Staged Calico kinds
 * enforce nothing and are absent, so never judged.
 */
export const SERVED_KINDS: readonly ServedKind[] = [
  ...WORKLOAD_KINDS,
  served({
    group: 'networking.k8s.io',
    versions: ['v1'],
    kind: 'NetworkPolicy',
    resource: 'networkpolicies',
    scope: 'Namespaced',
    shortNames: ['netpol'],
  }),
  served({
    group: '',
    versions: ['v1'],
    kind: 'Namespace',
    resource: 'namespaces',
    scope: 'Cluster',
    shortNames: ['ns'],
  }),
  served({
    group: EXCEPTION_GROUP,
    versions: [EXCEPTION_VERSION],
    kind: EXCEPTION_KIND,
    resource: EXCEPTION_PLURAL,
    scope: 'Namespaced',
  }),
  served({
    judgedAs: CILIUM_POLICY,
    group: 'cilium.io',
    versions: ['v2'],
    kind: 'CiliumNetworkPolicy',
    resource: 'ciliumnetworkpolicies',
    scope: 'Namespaced',
  }),
  served({
    judgedAs: CILIUM_CLUSTERWIDE_POLICY,
    group: 'cilium.io',
    versions: ['v2'],
    kind: 'CiliumClusterwideNetworkPolicy',
    resource: 'ciliumclusterwidenetworkpolicies',
    scope: 'Cluster',
  }),
  ...calico(CALICO_POLICIES),
  served({
    judgedAs: CLUSTER_NETWORK_POLICY,
    group: 'policy.networking.k8s.io',
    versions: ['v1alpha2'],
    kind: 'ClusterNetworkPolicy',
    resource: 'clusternetworkpolicies',
    scope: 'Cluster',
  }),
  served({
    judgedAs: ADMIN_NETWORK_POLICY,
    group: 'policy.networking.k8s.io',
    versions: ['v1alpha1'],
    kind: 'AdminNetworkPolicy',
    resource: 'adminnetworkpolicies',
    scope: 'Cluster',
  }),
  served({
    judgedAs: BASELINE_ADMIN_NETWORK_POLICY,
    group: 'policy.networking.k8s.io',
    versions: ['v1alpha1'],
    kind: 'BaselineAdminNetworkPolicy',
    resource: 'baselineadminnetworkpolicies',
    scope: 'Cluster',
  }),
  // The objects dialect peers name (sets of addresses), after the policies.
  served({
    judgedAs: CILIUM_CIDR_GROUP,
    group: 'cilium.io',
    versions: ['v2', 'v2alpha1'],
    kind: 'CiliumCIDRGroup',
    resource: 'ciliumcidrgroups',
    scope: 'Cluster',
  }),
  ...calico(CALICO_SETS),
];

/** `apps/v1`, or `v1` for the core group. */
export const apiVersionOf = (group: string, version: string): string =>
  group === '' ? version : `${group}/${version}`;

/** The workload row of a kind, if it runs pods. */
export function workloadKind(kind: string): WorkloadKind | undefined {
  return WORKLOAD_KINDS.find((row) => row.kind === kind);
}

/** The workload kinds a kind's controller creates (a Deployment: ReplicaSet). */
export const ownedBy = (kind: string): readonly WorkloadKind[] =>
  WORKLOAD_KINDS.filter((row) => row.ownedBy.some((owner) => owner === kind));

/** How far down an ownership chain a kind sits (a Deployment 0, its ReplicaSet 1, their Pod 2). */
function depth(kind: string): number {
  return Math.max(0, ...(workloadKind(kind)?.ownedBy ?? []).map((owner) => 1 + depth(owner)));
}

/** How long the ownership chain below a kind is (a Deployment 2: ReplicaSet, Pod; a Pod 0). */
function height(kind: string): number {
  return Math.max(0, ...ownedBy(kind).map((row) => 1 + height(row.kind)));
}

/**
 * Workload kinds with every owner before what it owns, for listing page by page (audit remembers
 * owners before it meets what they own): the heads of the longest chains first (Deployment, CronJob),
 * then by how far down a chain a kind sits, in table order otherwise.
 */
export const OWNERS_FIRST: readonly WorkloadKind[] = [...WORKLOAD_KINDS].sort(
  (a, b) => height(b.kind) - height(a.kind) || depth(a.kind) - depth(b.kind),
);

/** reach: when a name is both a workload and a bare Pod, the workload wins; among workloads, table order. */
export const REACH_PRECEDENCE: readonly string[] = [
  ...WORKLOAD_KINDS.filter((row) => row.podTemplate.length > 0),
  ...WORKLOAD_KINDS.filter((row) => row.podTemplate.length === 0),
].map((row) => row.kind);

const descendants = (kind: string): string[] => [
  ...new Set(ownedBy(kind).flatMap((row) => [row.kind, ...descendants(row.kind)])),
];
const DESCENDANTS: ReadonlyMap<string, readonly string[]> = new Map(
  WORKLOAD_KINDS.map((row) => [row.kind, descendants(row.kind)]),
);

/** What each kind's controllers create, transitively (a Deployment: ReplicaSets and their Pods). */
export const descendantsOf = (kind: string): readonly string[] => DESCENDANTS.get(kind) ?? [];
