import type { CidrRange } from '../cidr.ts';
import type { Labels } from '../vocabulary.ts';
import type { UnmodelledPolicy } from './dialect-policy.ts';
import type {
  CompiledPolicy,
  ContainerPort,
  Direction,
  Endpoint,
  NamespaceNode,
  PeerSpec,
  Protocol,
  RuleSpec,
  SideVerdict,
  Verdict,
  Workload,
} from './model.ts';
import { peerNames } from './peers.ts';
import { portsAdmit } from './ports.ts';

export interface ReachInput {
  readonly namespaces: readonly NamespaceNode[];
  readonly workloads: readonly Workload[];
  readonly policies: readonly CompiledPolicy[];
  /** Policies reach reads but does not model (Calico), or models only in part. */
  readonly unmodelled?: readonly UnmodelledPolicy[];
}

/** A policy reach does not (wholly) model, with the workloads of the input it selects. */
export interface UnmodelledNote {
  readonly policy: string;
  readonly reason: string;
  readonly selects: readonly string[];
}

/** One allowed connection: `from` reaches `to` on a port its containers declare. */
export interface Connection {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly portName: string | undefined;
}

const OPEN: SideVerdict = { allowed: true, policies: [] };
const ITSELF: SideVerdict = {
  allowed: true,
  policies: [],
  note: 'a pod reaching itself (Kubernetes: a pod cannot block access to itself)',
};
const SELF: Verdict = { allowed: true, egress: ITSELF, ingress: ITSELF };

/**
 * The reachability engine: pure and synchronous. Policies are indexed by namespace, and which
 * policies select a workload is worked out once per workload and direction, so a question costs
 * the rules of the few policies that select its two ends.
 */
export class ReachGraph {
  readonly workloads: readonly Workload[];
  readonly policies: readonly CompiledPolicy[];
  private readonly namespaces = new Map<string, NamespaceNode>();
  private readonly byId = new Map<string, Workload>();
  private readonly byNamespace = new Map<string, Workload[]>();
  private readonly policiesIn = new Map<string, CompiledPolicy[]>();
  /** Cluster-scoped policies of the NetworkPolicy tier (CiliumClusterwideNetworkPolicy). */
  private readonly clusterScoped: CompiledPolicy[] = [];
  /** ClusterNetworkPolicy tiers, each in evaluation order (priority, then name). */
  private readonly tiers: Record<'admin' | 'baseline', CompiledPolicy[]> = {
    admin: [],
    baseline: [],
  };
  private readonly tiered: Record<Direction, Map<string, CompiledPolicy[]>> = {
    ingress: new Map(),
    egress: new Map(),
  };
  private readonly unmodelled: readonly UnmodelledPolicy[];
  private readonly selecting: Record<Direction, Map<string, CompiledPolicy[]>> = {
    ingress: new Map(),
    egress: new Map(),
  };
  private readonly peerMembers = new Map<PeerSpec, Workload[]>();
  private byAddress: Map<string, Workload> | undefined;
  private readonly nsLabels = (name: string): Labels | undefined =>
    this.namespaces.get(name)?.labels;

  constructor(input: ReachInput) {
    this.workloads = input.workloads;
    this.policies = input.policies;
    for (const ns of input.namespaces) this.namespaces.set(ns.name, ns);
    for (const workload of input.workloads) {
      this.byId.set(workload.id, workload);
      push(this.byNamespace, workload.namespace, workload);
    }
    for (const policy of input.policies) {
      if (policy.tier !== undefined) this.tiers[policy.tier.tier].push(policy);
      else if (policy.namespace === '') this.clusterScoped.push(policy);
      else push(this.policiesIn, policy.namespace, policy);
    }
    for (const tier of Object.values(this.tiers))
      tier.sort(
        (a, b) => (a.tier?.priority ?? 0) - (b.tier?.priority ?? 0) || a.name.localeCompare(b.name),
      );
    this.unmodelled = input.unmodelled ?? [];
  }

  /** Whether a policy's subject holds the workload (its namespace, then its pod labels). */
  private holds(policy: CompiledPolicy, workload: Workload): boolean {
    if (policy.inNamespace !== undefined) {
      const labels = this.nsLabels(workload.namespace);
      if (labels === undefined || !policy.inNamespace(labels)) return false;
    }
    return policy.selects(workload.labels);
  }

  /** Notes for every policy reach does not wholly model, with the workloads it selects. */
  unmodelledNotes(only?: readonly Endpoint[]): UnmodelledNote[] {
    const among = only?.filter((e): e is Workload => e.kind === 'workload') ?? this.workloads;
    return this.unmodelled.flatMap((entry) => {
      const selects = among
        .filter((w) => entry.selects(w.labels, w.namespace, this.nsLabels(w.namespace) ?? {}))
        .map((w) => w.id);
      if (only !== undefined && selects.length === 0) return [];
      return [{ policy: entry.policy, reason: entry.reason, selects }];
    });
  }

  namespace(name: string): NamespaceNode | undefined {
    return this.namespaces.get(name);
  }

  namespaceNames(): string[] {
    return [...this.namespaces.keys()];
  }

  workload(id: string): Workload | undefined {
    return this.byId.get(id);
  }

  /** The workload one of whose pods has this address (a /32 or /128), if the input told us. */
  workloadAt(address: CidrRange): Workload | undefined {
    if (this.byAddress === undefined) {
      this.byAddress = new Map();
      for (const w of this.workloads) {
        for (const a of w.addresses) this.byAddress.set(`${a.family} ${a.first}`, w);
      }
    }
    return this.byAddress.get(`${address.family} ${address.first}`);
  }

  workloadsIn(namespace: string): readonly Workload[] {
    return this.byNamespace.get(namespace) ?? [];
  }

  /** Policies of `direction` that select the workload (and so isolate it for that direction). */
  selectingPolicies(workload: Workload, direction: Direction): readonly CompiledPolicy[] {
    const cache = this.selecting[direction];
    let found = cache.get(workload.id);
    if (found === undefined) {
      const isolates = direction === 'ingress' ? 'isolatesIngress' : 'isolatesEgress';
      // A Cilium policy whose rules do not switch default deny on still adds its allows.
      found = [...(this.policiesIn.get(workload.namespace) ?? []), ...this.clusterScoped].filter(
        (policy) =>
          (policy[isolates] || policy[direction].length > 0) && this.holds(policy, workload),
      );
      cache.set(workload.id, found);
    }
    return found;
  }

  /** ClusterNetworkPolicies of a tier whose subject holds the workload, in evaluation order. */
  private tierPolicies(
    workload: Workload,
    direction: Direction,
    tier: 'admin' | 'baseline',
  ): readonly CompiledPolicy[] {
    const cache = this.tiered[direction];
    const key = `${tier} ${workload.id}`;
    let found = cache.get(key);
    if (found === undefined) {
      found = this.tiers[tier].filter(
        (policy) => policy[direction].length > 0 && this.holds(policy, workload),
      );
      cache.set(key, found);
    }
    return found;
  }

  /** Whether one rule of `policy` admits `other` on port/protocol (its action aside). */
  private ruleMatches(
    rule: RuleSpec,
    policy: CompiledPolicy,
    other: Endpoint,
    port: number,
    protocol: Protocol,
    destinationPorts: readonly ContainerPort[],
  ): boolean {
    if (!portsAdmit(rule.ports, port, protocol, destinationPorts)) return false;
    if (rule.peers === undefined) return true;
    if (
      other.kind === 'external' &&
      other.entity !== undefined &&
      rule.entities?.includes(other.entity) === true
    )
      return true;
    return rule.peers.some((peer) => peerNames(peer, policy.namespace, other, this.nsLabels));
  }

  /** The first rule of a tier that matches decides: Accept, Deny, or Pass (undefined: no match). */
  private tierDecision(
    tier: 'admin' | 'baseline',
    subject: Workload,
    direction: Direction,
    other: Endpoint,
    port: number,
    protocol: Protocol,
    destinationPorts: readonly ContainerPort[],
  ): { action: 'allow' | 'deny' | 'pass'; policy: string } | undefined {
    if (this.tiers[tier].length === 0) return undefined;
    for (const policy of this.tierPolicies(subject, direction, tier))
      for (const rule of policy[direction])
        if (this.ruleMatches(rule, policy, other, port, protocol, destinationPorts))
          return { action: rule.action ?? 'allow', policy: policy.name };
    return undefined;
  }

  /** One side of a connection: the policies selecting `subject` for `direction`, judged against `other`. */
  side(
    direction: Direction,
    src: Endpoint,
    dst: Endpoint,
    port: number,
    protocol: Protocol,
  ): SideVerdict {
    const subject = direction === 'egress' ? src : dst;
    const other = direction === 'egress' ? dst : src;
    if (subject.kind === 'external') return OPEN;
    const destinationPorts = dst.kind === 'workload' ? dst.ports : [];
    const tier = (name: 'admin' | 'baseline') =>
      this.tierDecision(name, subject, direction, other, port, protocol, destinationPorts);
    // Admin tier first: the first matching rule by priority decides; Pass defers to the next tier.
    const admin = tier('admin');
    if (admin !== undefined && admin.action !== 'pass')
      return { allowed: admin.action === 'allow', policies: [admin.policy] };
    const policies = this.selectingPolicies(subject, direction);
    const matching = (action: 'allow' | 'deny') =>
      names(
        policies.filter((policy) =>
          policy[direction].some(
            (rule) =>
              (rule.action ?? 'allow') === action &&
              this.ruleMatches(rule, policy, other, port, protocol, destinationPorts),
          ),
        ),
      );
    // Cilium deny rules win over every allow of the NetworkPolicy tier.
    const denying = policies.some((policy) => policy.dialect === 'cilium') ? matching('deny') : [];
    if (denying.length > 0) return { allowed: false, policies: denying };
    const isolates = direction === 'ingress' ? 'isolatesIngress' : 'isolatesEgress';
    const isolating = policies.filter((policy) => policy[isolates]);
    if (isolating.length > 0) {
      const allowing = matching('allow');
      return allowing.length > 0
        ? { allowed: true, policies: allowing }
        : { allowed: false, policies: names(isolating) };
    }
    // Baseline tier only for traffic no NetworkPolicy isolates.
    const baseline = tier('baseline');
    if (baseline !== undefined && baseline.action !== 'pass')
      return { allowed: baseline.action === 'allow', policies: [baseline.policy] };
    return OPEN;
  }

  /**
   * Can `src` open a connection to `dst` on port/protocol? Both its egress and dst's ingress must
   * allow it. A bare Pod always reaches itself: Kubernetes says a pod cannot block access to itself.
   */
  decide(
    src: Endpoint,
    dst: Endpoint,
    port: number,
    protocol: Protocol,
    options: { samePod?: boolean } = {},
  ): Verdict {
    const onePod =
      options.samePod === true || (src.kind === 'workload' && src.workloadKind === 'Pod');
    if (src === dst && onePod) return SELF;
    const egress = this.side('egress', src, dst, port, protocol);
    const ingress = this.side('ingress', src, dst, port, protocol);
    return { allowed: egress.allowed && ingress.allowed, egress, ingress };
  }

  /** The workloads a peer of `policy` names (selector peers by labels; ipBlock peers by known pod IPs). */
  private members(policy: CompiledPolicy, peer: PeerSpec): readonly Workload[] {
    let found = this.peerMembers.get(peer);
    if (found !== undefined) return found;
    const matches = peer.kind === 'selector' ? peer.namespaceMatches : undefined;
    if (peer.kind === 'selector' && matches === undefined) {
      found = this.workloadsIn(policy.namespace).filter((w) => peer.podMatches(w.labels));
    } else if (peer.kind === 'selector' && matches !== undefined) {
      found = [...this.namespaces.values()]
        .filter((ns) => matches(ns.labels))
        .flatMap((ns) => this.workloadsIn(ns.name).filter((w) => peer.podMatches(w.labels)));
    } else {
      found = this.workloads.filter(
        (w) => w.addresses.length > 0 && peerNames(peer, policy.namespace, w, this.nsLabels),
      );
    }
    this.peerMembers.set(peer, found);
    return found;
  }

  /** Beyond the cluster's workloads: `any` when not isolated, else what its rules open (ipBlocks, peerless rules). */
  outside(workload: Workload, direction: Direction): OutsideRules {
    const policies = this.selectingPolicies(workload, direction);
    const isolates = direction === 'ingress' ? 'isolatesIngress' : 'isolatesEgress';
    if (!policies.some((policy) => policy[isolates])) return 'any';
    const blocks: { cidr: string; ports: string }[] = [];
    for (const rule of policies.flatMap((policy) => policy[direction])) {
      // Deny rules and ClusterNetworkPolicy tiers are left out of this summary (docs/reach.md).
      if ((rule.action ?? 'allow') !== 'allow') continue;
      if (rule.peers === undefined)
        blocks.push({ cidr: 'any address', ports: describePorts(rule.ports) });
      else {
        for (const peer of rule.peers)
          if (peer.kind === 'ipBlock')
            blocks.push({ cidr: peer.text, ports: describePorts(rule.ports) });
        for (const entity of rule.entities ?? [])
          blocks.push({ cidr: `entity ${entity}`, ports: describePorts(rule.ports) });
      }
    }
    return blocks;
  }

  /**
   * Sources dst's ingress admits on port/protocol; undefined when it admits everyone, or when
   * another dialect decides (tiers, Cilium): the caller then asks each source.
   */
  private ingressSources(
    dst: Workload,
    port: number,
    protocol: Protocol,
  ): Set<Workload> | undefined {
    const policies = this.selectingPolicies(dst, 'ingress');
    if (policies.length === 0) return undefined;
    if (
      policies.some((policy) => policy.dialect !== undefined) ||
      this.tierPolicies(dst, 'ingress', 'admin').length > 0
    )
      return undefined;
    const sources = new Set<Workload>();
    for (const policy of policies) {
      for (const rule of policy.ingress) {
        if (!portsAdmit(rule.ports, port, protocol, dst.ports)) continue;
        if (rule.peers === undefined) return undefined;
        for (const peer of rule.peers)
          for (const member of this.members(policy, peer)) sources.add(member);
      }
    }
    return sources;
  }

  /**
   * Every allowed workload-to-workload connection on the ports destinations declare. With
   * `namespace`, only connections leaving or entering it. Candidates come from the destination's
   * ingress rules (peer sets cached per policy), so the cost follows what policies select.
   */
  connections(namespace?: string): Connection[] {
    const out: Connection[] = [];
    const inScope = namespace === undefined ? undefined : this.workloadsIn(namespace);
    for (const dst of this.workloads) {
      const local = namespace === undefined || dst.namespace === namespace;
      for (const declared of dst.ports) {
        const admitted = local
          ? this.ingressSources(dst, declared.port, declared.protocol)
          : undefined;
        // Without a source set, every workload (in scope) is asked both sides.
        const candidates: Iterable<Workload> =
          admitted ?? (local ? this.workloads : (inScope ?? []));
        for (const src of candidates) {
          const verdict =
            admitted === undefined
              ? this.decide(src, dst, declared.port, declared.protocol).allowed
              : this.side('egress', src, dst, declared.port, declared.protocol).allowed;
          if (verdict)
            out.push({
              from: src.id,
              to: dst.id,
              port: declared.port,
              protocol: declared.protocol,
              portName: declared.name,
            });
        }
      }
    }
    return out;
  }
}

/** Addresses beyond the cluster's workloads a workload may reach (egress) or hear from (ingress). */
export type OutsideRules = 'any' | readonly { readonly cidr: string; readonly ports: string }[];

export function describePorts(ports: RuleSpec['ports']): string {
  if (ports === undefined) return 'any port';
  return ports
    .map(
      (entry) =>
        `${entry.protocol}/${entry.port === undefined ? '*' : entry.endPort === undefined ? entry.port : `${entry.port}-${entry.endPort}`}`,
    )
    .join(', ');
}

/** Policy names once each (a Cilium policy's `specs` blocks share one name). */
const names = (policies: readonly CompiledPolicy[]): string[] => [
  ...new Set(policies.map((policy) => policy.name)),
];

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
