/**
 * netguard's domain words, on the ground floor: every layer (config, engine, rules, kube, cli)
 * may import this module, and it imports nothing of ours, so no import circle can run through it.
 */

/** How an environment treats findings: never deny, deny namespace-boundary rules, deny all denies. */
export const MODES = ['observe', 'constrain', 'enforce'] as const;
export type Mode = (typeof MODES)[number];

/** How strict each mode is, for "moving to a weaker environment" (NS003) and baseline strength. */
export const MODE_STRICTNESS: Readonly<Record<Mode, number>> = {
  observe: 0,
  constrain: 1,
  enforce: 2,
};

export const LEVELS = ['deny', 'warn', 'off'] as const;
export type Level = (typeof LEVELS)[number];

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** A Kubernetes object as it arrives: only its outer shape is trusted. */
export type KubeObject = Record<string, unknown>;

/** A string map (labels, annotations) read from an object. */
export type Labels = Readonly<Record<string, string>>;

/** A namespace as netguard reads it: from the cluster cache, a manifest, or the unknown default. */
export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Labels;
  readonly annotations: Labels;
}

/** Set by the API server on every namespace (since 1.21); selectors by name use it. */
export const METADATA_NAME_LABEL = 'kubernetes.io/metadata.name';

/** A namespace netguard has not seen: what the API server would give it, its name label and nothing else. */
export function unknownNamespace(name: string): NamespaceInfo {
  return { name, labels: { [METADATA_NAME_LABEL]: name }, annotations: {} };
}

/** Namespace label that names its environment; it wins over selectors and name patterns. */
export const ENVIRONMENT_LABEL = 'netguard.dev/environment';

/** Namespace annotations of the baseline (NS001); the controller turns them into NetworkPolicies. */
export const DEFAULT_DENY_ANNOTATION = 'netguard.dev/default-deny';
export const ALLOW_DNS_ANNOTATION = 'netguard.dev/allow-dns';
export const BASELINE_ANNOTATION = 'netguard.dev/baseline';
/** Namespace annotation naming who answers for it: the default owner of a waiver request. */
export const OWNER_ANNOTATION = 'netguard.dev/owner';

/** The label the controller puts on what it owns (only the controller may write such objects). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_NETGUARD = 'netguard';

/** netguard's own namespace: where it runs, and where waivers of Namespaces live. */
export const NETGUARD_NAMESPACE = 'netguard-system';

/** The baseline NetworkPolicies the controller keeps; only the controller may create these names. */
export const ALLOW_DNS_POLICY = 'netguard-allow-dns';
export const ALLOW_SAME_NAMESPACE_POLICY = 'netguard-allow-same-namespace';
export const DEFAULT_DENY_POLICY = 'netguard-default-deny';
export const BASELINE_POLICY_NAMES: readonly string[] = [
  ALLOW_DNS_POLICY,
  ALLOW_SAME_NAMESPACE_POLICY,
  DEFAULT_DENY_POLICY,
];

/** Kinds that carry a pod template (a Pod is its own), judged by the POD rules. */
export const POD_KINDS = [
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
  'CronJob',
] as const;
export type PodKind = (typeof POD_KINDS)[number];

/**
 * Policy kinds of the other dialects (DESIGN "Policy dialects"), as the engine names them once
 * their group and version are known. Calico's namespaced NetworkPolicy is named with its group
 * (kubectl's `kind.group`), since its kind alone collides with Kubernetes' own.
 */
export const CILIUM_POLICY = 'CiliumNetworkPolicy';
export const CILIUM_CLUSTERWIDE_POLICY = 'CiliumClusterwideNetworkPolicy';
export const CILIUM_CIDR_GROUP = 'CiliumCIDRGroup';
export const CALICO_POLICY = 'NetworkPolicy.projectcalico.org';
export const CALICO_GLOBAL_POLICY = 'GlobalNetworkPolicy';
export const CALICO_NETWORK_SET = 'NetworkSet';
export const CALICO_GLOBAL_NETWORK_SET = 'GlobalNetworkSet';
export const CLUSTER_NETWORK_POLICY = 'ClusterNetworkPolicy';
export const ADMIN_NETWORK_POLICY = 'AdminNetworkPolicy';
export const BASELINE_ADMIN_NETWORK_POLICY = 'BaselineAdminNetworkPolicy';

/** Dialect kinds that allow traffic: compiled into a policy meaning and met by the NP rules. */
export const DIALECT_POLICY_KINDS = [
  CILIUM_POLICY,
  CILIUM_CLUSTERWIDE_POLICY,
  CALICO_POLICY,
  CALICO_GLOBAL_POLICY,
  CLUSTER_NETWORK_POLICY,
  ADMIN_NETWORK_POLICY,
  BASELINE_ADMIN_NETWORK_POLICY,
] as const;

/** Cluster-scoped policy kinds: only `spec.platform` may write them (NP014). */
export const CLUSTER_SCOPED_POLICY_KINDS = [
  CILIUM_CLUSTERWIDE_POLICY,
  CILIUM_CIDR_GROUP,
  CALICO_GLOBAL_POLICY,
  CALICO_GLOBAL_NETWORK_SET,
  CLUSTER_NETWORK_POLICY,
  ADMIN_NETWORK_POLICY,
  BASELINE_ADMIN_NETWORK_POLICY,
] as const;

export const isClusterScopedPolicyKind = (kind: string): boolean =>
  (CLUSTER_SCOPED_POLICY_KINDS as readonly string[]).includes(kind);

/** Every kind some rule judges: what a waiver's `target.kind` may name. */
export const JUDGED_KINDS = [
  ...POD_KINDS,
  'NetworkPolicy',
  'Namespace',
  ...DIALECT_POLICY_KINDS,
  CILIUM_CIDR_GROUP,
  CALICO_NETWORK_SET,
  CALICO_GLOBAL_NETWORK_SET,
] as const;

export const isPodKind = (kind: string): kind is PodKind =>
  (POD_KINDS as readonly string[]).includes(kind);
