import type { CidrRange } from '../cidr.ts';
import type { AddressSet } from '../semantics/addresses.ts';
import type { ReservedEntity } from '../model/policy-meaning.ts';
import type { Labels } from '../vocabulary.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

export interface NamespaceNode {
  readonly name: string;
  /** With `kubernetes.io/metadata.name` defaulted, as the API server does. */
  readonly labels: Labels;
  readonly annotations: Labels;
}

/** A port a container declares; a policy's named port resolves against these on the destination. */
export interface ContainerPort {
  readonly name: string | undefined;
  readonly port: number;
  readonly protocol: Protocol;
}

/** A workload (Deployment, StatefulSet, DaemonSet, ..., or a bare Pod): the pods it runs share labels. */
export interface Workload {
  readonly kind: 'workload';
  /** `namespace/name`: the name users pass to --from/--to. */
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly workloadKind: string;
  readonly labels: Labels;
  readonly ports: readonly ContainerPort[];
  /** Pod IPs when known (a cluster's Pods); ipBlock peers match them, as on a real cluster. */
  readonly addresses: readonly CidrRange[];
  /** `hostNetwork: true`: Kubernetes leaves to the CNI whether NetworkPolicy applies to its pods. */
  readonly hostNetwork: boolean;
}

/** An address outside every workload we know: the internet, or a cluster range without a pod. */
export interface External {
  readonly kind: 'external';
  readonly id: string;
  readonly address: CidrRange;
  /**
   * A Cilium reserved entity (the API server, a node): ipBlocks do not select it there unless
   * `policy-cidr-match-mode: nodes`, so only peerless rules admit it.
   */
  readonly entity?: ReservedEntity | undefined;
}

export type Endpoint = Workload | External;

export interface PortSpec {
  readonly protocol: Protocol;
  /** A number, a container port name, or undefined for every port of the protocol. */
  readonly port: number | string | undefined;
  readonly endPort: number | undefined;
}

export interface IpBlockPeer {
  readonly kind: 'ipBlock';
  /** As written, for people: `10.0.0.0/8 except 10.1.0.0/16`. */
  readonly text: string;
  /** What the block means: its CIDR minus `except` (the policy's compiled meaning). */
  readonly addresses: AddressSet;
  /**
   * Cilium CIDR rules and `world` select only endpoints outside the cluster: never a pod, never a
   * node or the API server (NetworkPolicy ipBlocks and ClusterNetworkPolicy networks match pod IPs).
   */
  readonly outsideOnly?: boolean | undefined;
}

export interface SelectorPeer {
  readonly kind: 'selector';
  /** undefined: the policy's own namespace. */
  readonly namespaceMatches: ((labels: Labels) => boolean) | undefined;
  readonly podMatches: (labels: Labels) => boolean;
}

export type PeerSpec = IpBlockPeer | SelectorPeer;

export interface RuleSpec {
  /** undefined: every peer (a missing or empty from/to). */
  readonly peers: readonly PeerSpec[] | undefined;
  /** undefined: every port and protocol. */
  readonly ports: readonly PortSpec[] | undefined;
  /** Dialects with actions (Cilium deny rules, ClusterNetworkPolicy); undefined: allow. */
  readonly action?: 'allow' | 'deny' | 'pass' | undefined;
  /** Cilium reserved entities the rule names (the API server, nodes), matched by flow ends. */
  readonly entities?: readonly ReservedEntity[] | undefined;
  /** Parts of the rule reach cannot match to an address (DNS names, Services), for notes. */
  readonly unmodelled?: readonly string[] | undefined;
}

/**
 * A policy parsed once: selectors compiled, CIDRs parsed, policyTypes defaulted. NetworkPolicies,
 * and the dialects reach models (Cilium, ClusterNetworkPolicy tiers) in the same shape.
 */
export interface CompiledPolicy {
  /** The policy's namespace; '' for a cluster-scoped policy. */
  readonly namespace: string;
  /** As answers name it: a NetworkPolicy by its name, a dialect policy as `Kind/name`. */
  readonly name: string;
  readonly selects: (labels: Labels) => boolean;
  /** Which namespaces' pods it selects, by their labels; undefined: its own namespace only. */
  readonly inNamespace?: ((labels: Labels) => boolean) | undefined;
  readonly isolatesIngress: boolean;
  readonly isolatesEgress: boolean;
  readonly ingress: readonly RuleSpec[];
  readonly egress: readonly RuleSpec[];
  /** Undefined for a NetworkPolicy. */
  readonly dialect?: 'cilium' | 'cluster-network-policy' | undefined;
  /** ClusterNetworkPolicy, ANP, BANP: evaluated in tier order before (Admin) or after (Baseline) the rest. */
  readonly tier?: { readonly tier: 'admin' | 'baseline'; readonly priority: number } | undefined;
}

export type Direction = 'ingress' | 'egress';

/** One side's answer: allowed or not, and the policies that decided (see docs/reach.md). */
export interface SideVerdict {
  readonly allowed: boolean;
  readonly policies: readonly string[];
  /** Why the side is open without any policy deciding (a pod reaching itself, a host-network pod). */
  readonly note?: string | undefined;
}

export interface Verdict {
  readonly allowed: boolean;
  readonly egress: SideVerdict;
  readonly ingress: SideVerdict;
}
