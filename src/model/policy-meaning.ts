import type { AddressSet } from '../semantics/addresses.ts';
import type { PortSet, Protocol } from '../semantics/ports.ts';

export type { AddressSet, PortSet, Protocol };

/**
 * The compiled meaning of one network policy of any dialect (DESIGN "One meaning of a
 * NetworkPolicy"): per direction, which pods it selects, which peers (namespaces × pods, or an
 * address set) on which ports per protocol. Built once per review and once per cached object;
 * every rule, the widening check, `reach` and `advise` read this, never the spelling.
 *
 * Dialect compilers (Cilium, Calico, ClusterNetworkPolicy) produce the same shape. The type is
 * stable: extend it with new optional fields or new union members, never rename.
 */
export interface PolicyMeaning {
  /** Which object this is the meaning of: group, version and kind, never kind alone. */
  readonly source: MeaningSource;
  /** The pods the policy applies to. */
  readonly subject: PodSet;
  /** Per direction: undefined when the policy does not restrict that direction. */
  readonly ingress: DirectionMeaning | undefined;
  readonly egress: DirectionMeaning | undefined;
  /**
   * False when the policy is over `networkPolicies.limits` (NP013) and was not compiled: it then
   * counts as opening every peer and port in each direction it names.
   */
  readonly bounded: boolean;
  /**
   * Where a dialect orders its policies (ClusterNetworkPolicy, ANP, BANP): the tier and the
   * priority within it (lower first). Undefined for additive policies (NetworkPolicy, Cilium).
   */
  readonly tier?: { readonly tier: 'admin' | 'baseline'; readonly priority: number } | undefined;
  /**
   * True for a Cilium host policy (`nodeSelector`): it selects nodes, not pods. Its subject is
   * judged as every pod (conservative); `reach` does not apply it to pods.
   */
  readonly nodes?: boolean | undefined;
}

export interface MeaningSource {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Undefined for cluster-scoped kinds. */
  readonly namespace: string | undefined;
  readonly name: string;
}

/**
 * A set of pods: those in `namespaces` whose labels satisfy `pods`. A namespaced policy's subject
 * has `namespaces: {kind: 'named', names: [its namespace]}`.
 */
export interface PodSet {
  readonly namespaces: NamespaceSet;
  readonly pods: LabelSet;
}

/** Namespaces as a set: every one (existing or future), a fixed list of names, or a label set. */
export type NamespaceSet =
  | { readonly kind: 'every' }
  | { readonly kind: 'named'; readonly names: readonly string[] }
  | { readonly kind: 'labelled'; readonly labels: LabelSet };

/**
 * A label selector in one normal form: requirements ANDed; `matchLabels` entries become
 * `In [value]`; values sorted and unique. No requirements selects every object.
 */
export interface LabelSet {
  readonly requirements: readonly LabelRequirement[];
}

export interface LabelRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Sorted and unique; empty for Exists and DoesNotExist. */
  readonly values: readonly string[];
}

/** What one direction of a policy allows (or, for dialects with actions, denies or passes). */
export interface DirectionMeaning {
  /** One grant per rule as written, in order. */
  readonly grants: readonly Grant[];
  /**
   * Whether the policy isolates its pods in this direction (traffic no rule allows is dropped).
   * Undefined: it does, as a NetworkPolicy's restricted direction does. Cilium: only with rules
   * in the direction and `enableDefaultDeny` not false. ClusterNetworkPolicy tiers: never.
   */
  readonly isolates?: boolean | undefined;
}

/** One rule: its peers on its ports. */
export interface Grant {
  /** Where it is written, for messages: `spec.ingress[1]`. */
  readonly path: string;
  /** NetworkPolicy rules are `allow`; dialects with actions use the others (not subtracted when judging). */
  readonly action: 'allow' | 'deny' | 'pass';
  /** The peers the rule names; `{kind: 'any'}` alone when it names none (every peer). */
  readonly peers: readonly Peer[];
  /** The ports, per protocol (`all` for a rule without ports). */
  readonly ports: PortSet;
  /**
   * The cluster's own non-pod endpoints the rule names besides its peers (Cilium entities
   * `host`, `remote-node`, `kube-apiserver`; `cluster` names all three): no pod or internet peer,
   * so no rule reads them; `reach` matches them.
   */
  readonly entities?: readonly ReservedEntity[] | undefined;
  /**
   * Cilium: the rule's `toPorts` carry `rules.dns`, so Cilium's DNS proxy sees the answers that
   * pass it, which is how `toFQDNs` learns the addresses of its names.
   */
  readonly dnsVisible?: true | undefined;
}

export type ReservedEntity = 'host' | 'remote-node' | 'kube-apiserver';

/** One peer: every source/destination, pods by namespace × labels, addresses, or DNS names. */
export type Peer = AnyPeer | PodPeer | AddressPeer | NamePeer;

/** Every peer there is: every pod of every namespace and every address. */
export interface AnyPeer {
  readonly kind: 'any';
  readonly path: string;
}

export interface PodPeer {
  readonly kind: 'pods';
  /** `spec.ingress[0].from[1]` */
  readonly path: string;
  readonly pods: PodSet;
}

export interface AddressPeer {
  readonly kind: 'addresses';
  readonly path: string;
  /** The addresses covered (CIDR minus except; mapped IPv6 as IPv4). */
  readonly addresses: AddressSet;
  /** As written, for messages: `0.0.0.0/0 except 10.0.0.0/8`. */
  readonly text: string;
  /**
   * True when the addresses stand in for ones netguard cannot see (a Service's endpoints, a cloud
   * security group, an unseen CIDR group): judged as every address, matched by none in `reach`.
   */
  readonly unseen?: boolean | undefined;
  /**
   * The objects whose addresses these are, when they come from another object (a Calico
   * NetworkSet, a CiliumCIDRGroup), named as `setKey` names them: `NetworkSet prod-x/partners`.
   */
  readonly sources?: readonly string[];
}

/** How a peer names the set object its addresses come from: `NetworkSet ns/name`, `CiliumCIDRGroup name`. */
export const setKey = (kind: string, namespace: string | undefined, name: string): string =>
  namespace === undefined || namespace === '' ? `${kind} ${name}` : `${kind} ${namespace}/${name}`;

/** DNS names (Cilium toFQDNs): patterns as written; `*` is the internet. */
export interface NamePeer {
  readonly kind: 'names';
  readonly path: string;
  readonly patterns: readonly string[];
}

export type MeaningDirection = 'ingress' | 'egress';
