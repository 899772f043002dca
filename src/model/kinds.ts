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

const workload = (
  kind: PodKind,
  group: string,
  resource: string,
  podTemplate: readonly string[],
  ownedBy: readonly PodKind[],
  controller: string | undefined,
): WorkloadKind => ({
  judgedAs: kind,
  group,
  versions: ['v1'],
  kind,
  resource,
  scope: 'Namespaced',
  podTemplate,
  ownedBy,
  controller,
});

const TEMPLATE = ['spec', 'template'];

/** Every workload kind, in the vocabulary's order (`POD_KINDS`; the table is typed to hold each once). */
export const WORKLOAD_KINDS: readonly WorkloadKind[] = [
  workload(
    'Pod',
    '',
    'pods',
    [],
    ['ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController'],
    undefined,
  ),
  workload('Deployment', 'apps', 'deployments', TEMPLATE, [], 'deployment-controller'),
  workload('StatefulSet', 'apps', 'statefulsets', TEMPLATE, [], 'statefulset-controller'),
  workload('DaemonSet', 'apps', 'daemonsets', TEMPLATE, [], 'daemon-set-controller'),
  workload('ReplicaSet', 'apps', 'replicasets', TEMPLATE, ['Deployment'], 'replicaset-controller'),
  workload(
    'ReplicationController',
    '',
    'replicationcontrollers',
    TEMPLATE,
    [],
    'replication-controller',
  ),
  workload('Job', 'batch', 'jobs', TEMPLATE, ['CronJob'], 'job-controller'),
  workload(
    'CronJob',
    'batch',
    'cronjobs',
    ['spec', 'jobTemplate', 'spec', 'template'],
    [],
    'cronjob-controller',
  ),
];

const served = (
  judgedAs: string,
  group: string,
  versions: readonly string[],
  kind: string,
  resource: string,
  scope: KindScope,
): ServedKind => ({ judgedAs, group, versions, kind, resource, scope });

/** NetworkPolicies of each dialect ([dialects.md](../../docs/dialects.md)) and the objects their peers name. */
const CALICO_GROUPS: readonly (readonly [string, string])[] = [
  ['projectcalico.org', 'v3'],
  ['crd.projectcalico.org', 'v1'],
];

/** Every kind netguard knows: workloads, then the rest. Staged Calico kinds enforce nothing and are absent. */
export const SERVED_KINDS: readonly ServedKind[] = [
  ...WORKLOAD_KINDS,
  served(
    'NetworkPolicy',
    'networking.k8s.io',
    ['v1'],
    'NetworkPolicy',
    'networkpolicies',
    'Namespaced',
  ),
  served('Namespace', '', ['v1'], 'Namespace', 'namespaces', 'Cluster'),
  served(
    EXCEPTION_KIND,
    EXCEPTION_GROUP,
    [EXCEPTION_VERSION],
    EXCEPTION_KIND,
    EXCEPTION_PLURAL,
    'Namespaced',
  ),
  served(
    CILIUM_POLICY,
    'cilium.io',
    ['v2'],
    'CiliumNetworkPolicy',
    'ciliumnetworkpolicies',
    'Namespaced',
  ),
  served(
    CILIUM_CLUSTERWIDE_POLICY,
    'cilium.io',
    ['v2'],
    'CiliumClusterwideNetworkPolicy',
    'ciliumclusterwidenetworkpolicies',
    'Cluster',
  ),
  served(
    CILIUM_CIDR_GROUP,
    'cilium.io',
    ['v2', 'v2alpha1'],
    'CiliumCIDRGroup',
    'ciliumcidrgroups',
    'Cluster',
  ),
  ...CALICO_GROUPS.flatMap(([group, version]) => [
    served(CALICO_POLICY, group, [version], 'NetworkPolicy', 'networkpolicies', 'Namespaced'),
    served(
      CALICO_GLOBAL_POLICY,
      group,
      [version],
      'GlobalNetworkPolicy',
      'globalnetworkpolicies',
      'Cluster',
    ),
    served(CALICO_NETWORK_SET, group, [version], 'NetworkSet', 'networksets', 'Namespaced'),
    served(
      CALICO_GLOBAL_NETWORK_SET,
      group,
      [version],
      'GlobalNetworkSet',
      'globalnetworksets',
      'Cluster',
    ),
  ]),
  served(
    CLUSTER_NETWORK_POLICY,
    'policy.networking.k8s.io',
    ['v1alpha2'],
    'ClusterNetworkPolicy',
    'clusternetworkpolicies',
    'Cluster',
  ),
  served(
    ADMIN_NETWORK_POLICY,
    'policy.networking.k8s.io',
    ['v1alpha1'],
    'AdminNetworkPolicy',
    'adminnetworkpolicies',
    'Cluster',
  ),
  served(
    BASELINE_ADMIN_NETWORK_POLICY,
    'policy.networking.k8s.io',
    ['v1alpha1'],
    'BaselineAdminNetworkPolicy',
    'baselineadminnetworkpolicies',
    'Cluster',
  ),
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
function depth(row: WorkloadKind): number {
  return Math.max(0, ...row.ownedBy.map((owner) => 1 + depthOf(owner)));
}
const depthOf = (kind: string): number => {
  const row = workloadKind(kind);
  return row === undefined ? 0 : depth(row);
};

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
  (a, b) => height(b.kind) - height(a.kind) || depth(a) - depth(b),
);

/** reach: when a name is both a workload and a bare Pod, the workload wins; among workloads, table order. */
export const REACH_PRECEDENCE: readonly string[] = [
  ...WORKLOAD_KINDS.filter((row) => row.podTemplate.length > 0),
  ...WORKLOAD_KINDS.filter((row) => row.podTemplate.length === 0),
].map((row) => row.kind);

/** What each kind's controllers create, transitively (a Deployment: ReplicaSets and their Pods). */
export function descendantsOf(kind: string): readonly string[] {
  return [...new Set(ownedBy(kind).flatMap((row) => [row.kind, ...descendantsOf(row.kind)]))];
}
