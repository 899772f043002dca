import { contains, parseCidr } from '../cidr.ts';
import { requiredLabelKeys, type Policy } from '../config/policy.ts';
import type { KubeObject } from '../vocabulary.ts';
import { desiredBaseline } from '../kube/baseline-policies.ts';
import { ALLOW_DNS_POLICY } from '../vocabulary.ts';
import { baselineAnnotations } from '../mutation/baseline-annotations.ts';
import type { Entity, FlowEnd, FlowSet, ObservedFlow } from './flows.ts';
import type { ReachGraph } from './graph.ts';
import type { Endpoint, External, Protocol, Verdict, Workload } from './model.ts';

export interface JudgedFlow {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly protocol: Protocol;
  readonly count: number;
  /** Only ever dropped: reported, never proposed. */
  readonly dropped: boolean;
  readonly today: Verdict;
  readonly enforced: Verdict;
  /** Set when one end is a Cilium reserved entity (the API server, another node, the pod's node). */
  readonly entity?: Entity | undefined;
}

/** What backs one proposed rule: the flows it keeps, from whom, and whether it opens more than they were. */
export interface RuleBacking {
  /** `namespace/name` of the proposal. */
  readonly policy: string;
  readonly direction: 'ingress' | 'egress';
  /** The peer, for people: `prod-shop/api`, `160.79.104.10/32`, `the internet (...)`. */
  readonly peer: string;
  readonly ports: string;
  readonly flows: number;
  /** The observed clients (ingress) or servers (egress) behind the rule. */
  readonly observed: readonly string[];
  /** Set when the rule opens more than the observed ends: the internet, or other workloads. */
  readonly opens?: string | undefined;
}

/** One proposal judged by netguard's own rules in its namespace's environment (filled in by the CLI). */
export interface ProposalCheck {
  readonly proposal: string;
  readonly environment: string | undefined;
  readonly mode: string | undefined;
  readonly allowed: boolean;
  readonly findings: readonly {
    readonly rule: string;
    readonly level: 'deny' | 'warn';
    readonly path: string;
    readonly message: string;
  }[];
  /** What it takes to apply it as is: approvedEgressCIDRs entries, or the exception request command. */
  readonly approvals: readonly string[];
}

/** How complete the capture was: what Hubble lost, and what was left out and why. */
export interface CaptureReport {
  readonly lostEvents: number;
  readonly unavailableNodes: readonly string[];
  readonly skipped: Readonly<Record<string, number>>;
  readonly complete: boolean;
}

export interface NamespaceCuts {
  readonly namespace: string;
  /** Observed flows leaving or entering the namespace. */
  readonly observed: number;
  /** Of those, flows the namespace's own enforce baseline would cut (its egress or its ingress). */
  readonly cut: number;
}

export interface Advice {
  readonly flows: readonly JudgedFlow[];
  readonly allowedToday: number;
  readonly cutByEnforce: number;
  readonly namespaces: readonly NamespaceCuts[];
  readonly proposals: readonly KubeObject[];
  /** Per proposed rule, the flows and ends that back it. */
  readonly backing: readonly RuleBacking[];
  /** Flows no proposal admits, each with the reason (no stable labels to select by). */
  readonly refused: readonly string[];
  /** Cuts of the API server, other nodes and the pod's node, each with the fix for the capture's CNI. */
  readonly entityCuts: readonly string[];
  readonly capture: CaptureReport;
  /** Per proposal, in order: the rules it meets and the approval it needs (empty until checked). */
  readonly checks: readonly ProposalCheck[];
  /** Flows naming workloads the input does not have, and records the reader skipped. */
  readonly notes: readonly string[];
}

interface Resolved {
  readonly flow: ObservedFlow;
  readonly src: Endpoint;
  readonly dst: Endpoint;
}

function resolveEnd(graph: ReachGraph, end: FlowEnd): Endpoint | string {
  if (end.kind === 'entity') {
    const address = parseCidr(`${end.address}/${end.address.includes(':') ? 128 : 32}`);
    if (address === undefined) return `"${end.address}" is not an IP address`;
    return { kind: 'external', id: `${end.entity} (${end.address})`, address, entity: end.entity };
  }
  if (end.kind === 'address') {
    const address = parseCidr(`${end.address}/${end.address.includes(':') ? 128 : 32}`);
    if (address === undefined) return `"${end.address}" is not an IP address`;
    return graph.workloadAt(address) ?? { kind: 'external', id: end.address, address };
  }
  for (const name of end.names) {
    const found = graph.workload(`${end.namespace}/${name}`);
    if (found !== undefined) return found;
  }
  return `${end.namespace}/${end.names[0] ?? '?'} is not a workload in the input`;
}

/** Labels that name what a workload is, never how it was rolled out: `app`, `app.kubernetes.io/name`, the required labels. */
function stableKeys(policy: Policy): string[] {
  return [...new Set(['app', 'app.kubernetes.io/name', ...requiredLabelKeys(policy)])];
}

/**
 * The stable labels that pick out this workload in its namespace: the required labels when they
 * do, else every stable label it has. Undefined when it has none: a selector would then name the
 * whole namespace, so nothing is proposed for it.
 */
function identifyingLabels(
  graph: ReachGraph,
  workload: Workload,
  policy: Policy,
): Record<string, string> | undefined {
  const picks = (labels: Record<string, string>): boolean =>
    Object.keys(labels).length > 0 &&
    graph
      .workloadsIn(workload.namespace)
      .every(
        (w) => (w === workload) === Object.entries(labels).every(([k, v]) => w.labels[k] === v),
      );
  const required: Record<string, string> = {};
  for (const label of policy.requiredLabels) {
    const key = [label.key, ...(label.aliases ?? [])].find(
      (candidate) => (workload.labels[candidate] ?? '') !== '',
    );
    const value = key === undefined ? undefined : workload.labels[key];
    if (key !== undefined && value !== undefined) required[key] = value;
  }
  if (picks(required)) return required;
  const stable = Object.fromEntries(
    stableKeys(policy)
      .filter((key) => (workload.labels[key] ?? '') !== '')
      .map((key) => [key, workload.labels[key] ?? '']),
  );
  return Object.keys(stable).length === 0 ? undefined : stable;
}

const noStableLabels = (workload: Workload, policy: Policy): string =>
  `${workload.id} has none of the stable labels ${stableKeys(policy).join(', ')}, so a selector for it would name every pod of ${workload.namespace}; label it, then run advise again`;

/** Workloads besides `workload` that its identifying labels also select (none when it has its own app label). */
function alsoSelected(graph: ReachGraph, workload: Workload, policy: Policy): string[] {
  const labels = Object.entries(identifyingLabels(graph, workload, policy) ?? {});
  if (labels.length === 0) return [];
  return graph
    .workloadsIn(workload.namespace)
    .filter((w) => w !== workload && labels.every(([k, v]) => w.labels[k] === v))
    .map((w) => w.id);
}

const FRONTEND = { key: 'tier', value: 'frontend' } as const;

/** Outside the cluster ranges: an internet client, whose address says nothing about the next one. */
function isInternet(policy: Policy, address: External): boolean {
  return !policy.networkPolicies.clusterRanges.some(({ range }) =>
    contains(range, address.address),
  );
}

interface Peer {
  readonly peer: KubeObject;
  /** For people, in the backing lines. */
  readonly text: string;
  readonly opens?: string | undefined;
}

/**
 * The peer a rule of `subject` names for `other`, or why none can be written. Internet clients
 * of a frontend (tier=frontend, the only tier NP012 lets face the internet) become the whole
 * internet minus the cluster ranges, and the report says so; every other address is named alone.
 */
function peerFor(
  graph: ReachGraph,
  policy: Policy,
  subject: Workload,
  other: Endpoint,
  direction: 'ingress' | 'egress',
): Peer | string {
  if (
    other.kind === 'external' &&
    direction === 'ingress' &&
    subject.labels[FRONTEND.key] === FRONTEND.value &&
    isInternet(policy, other)
  ) {
    const v4 = other.address.family === 'ipv4';
    const except = policy.networkPolicies.clusterRanges
      .filter(({ range }) => range.family === other.address.family)
      .map(({ text }) => text);
    const cidr = v4 ? '0.0.0.0/0' : '::/0';
    const text = `${cidr}${except.length > 0 ? ` except ${except.join(', ')}` : ''}`;
    return {
      peer: { ipBlock: { cidr, ...(except.length > 0 ? { except } : {}) } },
      text,
      opens: `opens the internet (${text}) to ${subject.id}, a tier=frontend workload, because internet clients reached it`,
    };
  }
  if (other.kind === 'external') {
    const cidr = `${other.id}/${other.address.family === 'ipv4' ? 32 : 128}`;
    return { peer: { ipBlock: { cidr } }, text: cidr };
  }
  const labels = identifyingLabels(graph, other, policy);
  if (labels === undefined) return noStableLabels(other, policy);
  const twins = alsoSelected(graph, other, policy);
  const opens =
    twins.length === 0
      ? undefined
      : `also admits ${twins.join(', ')}, which share ${other.id}'s labels`;
  const podSelector = { matchLabels: labels };
  if (other.namespace === subject.namespace)
    return { peer: { podSelector }, text: other.id, opens };
  return {
    peer: {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': other.namespace } },
      podSelector,
    },
    text: other.id,
    opens,
  };
}

function isDns(policy: Policy, dst: Endpoint, port: number): boolean {
  const dns = policy.networkPolicies.dns;
  return (
    dst.kind === 'workload' &&
    port === 53 &&
    dst.namespace === dns.namespace &&
    Object.entries(dns.podLabels).every(([k, v]) => dst.labels[k] === v)
  );
}

interface RuleEntry {
  readonly peer: Peer;
  readonly port: number;
  readonly protocol: Protocol;
  readonly flows: number;
  readonly observed: string;
}

interface Grouped {
  readonly peer: Peer;
  readonly ports: Map<string, { protocol: Protocol; port: number }>;
  flows: number;
  readonly observed: Set<string>;
}

/** Rules grouped by peer, each with the ports seen for it, in a stable order. */
function groupRules(entries: readonly RuleEntry[]): Grouped[] {
  const byPeer = new Map<string, Grouped>();
  for (const entry of entries) {
    const key = JSON.stringify(entry.peer.peer);
    const group = byPeer.get(key) ?? {
      peer: entry.peer,
      ports: new Map(),
      flows: 0,
      observed: new Set<string>(),
    };
    group.ports.set(`${entry.protocol}/${entry.port}`, {
      protocol: entry.protocol,
      port: entry.port,
    });
    group.flows += entry.flows;
    group.observed.add(entry.observed);
    byPeer.set(key, group);
  }
  return [...byPeer.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, group]) => group);
}

const sortedPorts = (group: Grouped): { protocol: Protocol; port: number }[] =>
  [...group.ports.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));

function dnsEgressRules(policy: Policy): KubeObject[] {
  const allowDns = desiredBaseline(baselineAnnotations('enforce'), policy.networkPolicies.dns).find(
    (p) => p.name === ALLOW_DNS_POLICY,
  );
  const egress = allowDns?.spec['egress'];
  return Array.isArray(egress) ? structuredClone(egress) : [];
}

interface Subject {
  readonly workload: Workload;
  readonly ingress: RuleEntry[];
  readonly egress: RuleEntry[];
  /** Flows with a reserved entity at the other end: only a Cilium policy can name it. */
  readonly entities: {
    entity: Entity;
    direction: 'ingress' | 'egress';
    port: number;
    protocol: Protocol;
    flows: number;
    observed: string;
  }[];
}

interface Proposed {
  readonly proposals: KubeObject[];
  readonly backing: RuleBacking[];
  readonly refused: string[];
}

const MAX_LISTED = 5;
const listed = (ids: readonly string[]): string[] =>
  ids.length <= MAX_LISTED
    ? [...ids]
    : [...ids.slice(0, MAX_LISTED), `${ids.length - MAX_LISTED} more`];

const flowText = (r: Resolved): string =>
  `${r.src.id} → ${r.dst.id} ${r.flow.protocol}/${r.flow.port}`;

/** Collects, per judged workload, the rules its observed flows need; refuses what no selector can name. */
function collectSubjects(
  resolved: readonly Resolved[],
  graph: ReachGraph,
  policy: Policy,
  refused: string[],
): Map<string, Subject> {
  const judged = (e: Endpoint): e is Workload =>
    e.kind === 'workload' && !policy.excludedNamespaces.has(e.namespace);
  const subjects = new Map<string, Subject>();
  const subject = (w: Workload): Subject => {
    const found = subjects.get(w.id) ?? { workload: w, ingress: [], egress: [], entities: [] };
    subjects.set(w.id, found);
    return found;
  };
  const add = (r: Resolved, self: Workload, other: Endpoint, direction: 'ingress' | 'egress') => {
    if (other.kind === 'external' && other.entity !== undefined) {
      subject(self).entities.push({
        entity: other.entity,
        direction,
        port: r.flow.port,
        protocol: r.flow.protocol,
        flows: r.flow.count,
        observed: other.id,
      });
      return;
    }
    const peer = peerFor(graph, policy, self, other, direction);
    if (typeof peer === 'string') {
      refused.push(`${flowText(r)} (${direction} of ${self.id}): ${peer}`);
      return;
    }
    subject(self)[direction].push({
      peer,
      port: r.flow.port,
      protocol: r.flow.protocol,
      flows: r.flow.count,
      observed: other.id,
    });
  };
  for (const r of resolved) {
    // A pod always reaches itself (Kubernetes): no rule for it.
    if (r.src === r.dst && r.src.kind === 'workload' && r.src.workloadKind === 'Pod') continue;
    if (judged(r.src) && !isDns(policy, r.dst, r.flow.port)) add(r, r.src, r.dst, 'egress');
    if (judged(r.dst)) add(r, r.dst, r.src, 'ingress');
  }
  return subjects;
}

function networkPolicyFor(
  s: Subject,
  selector: Record<string, string>,
  policy: Policy,
  backing: RuleBacking[],
): KubeObject {
  const name = `${s.workload.name.slice(0, 244)}-observed`;
  const rules = (direction: 'ingress' | 'egress'): KubeObject[] =>
    groupRules(s[direction]).map((group) => {
      const ports = sortedPorts(group);
      backing.push({
        policy: `${s.workload.namespace}/${name}`,
        direction,
        peer: group.peer.text,
        ports: ports.map((p) => `${p.protocol}/${p.port}`).join(', '),
        flows: group.flows,
        observed: listed([...group.observed].sort()),
        opens: group.peer.opens,
      });
      return { [direction === 'ingress' ? 'from' : 'to']: [group.peer.peer], ports };
    });
  const ingress = rules('ingress');
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name,
      namespace: s.workload.namespace,
      annotations: {
        'netguard.dev/advised': `from observed flows of ${s.workload.workloadKind} ${s.workload.name}; review before applying`,
      },
    },
    // No observed ingress: Ingress is left to the baseline, so applying this in observe cuts nothing seen.
    spec: {
      podSelector: { matchLabels: selector },
      policyTypes: ingress.length > 0 ? ['Ingress', 'Egress'] : ['Egress'],
      ...(ingress.length > 0 ? { ingress } : {}),
      egress: [...dnsEgressRules(policy), ...rules('egress')],
    },
  };
}

/**
 * Flows to or from Cilium's reserved entities, as a CiliumNetworkPolicy: a NetworkPolicy ipBlock
 * does not select the API server or nodes on Cilium (unless `policy-cidr-match-mode: nodes`).
 */
function ciliumPolicyFor(
  s: Subject,
  selector: Record<string, string>,
  backing: RuleBacking[],
): KubeObject {
  const name = `${s.workload.name.slice(0, 235)}-observed-entities`;
  const rules = (direction: 'ingress' | 'egress'): KubeObject[] => {
    const byEntity = new Map<
      Entity,
      {
        ports: Map<string, { port: string; protocol: Protocol }>;
        flows: number;
        observed: Set<string>;
      }
    >();
    for (const e of s.entities.filter((entry) => entry.direction === direction)) {
      const group = byEntity.get(e.entity) ?? { ports: new Map(), flows: 0, observed: new Set() };
      group.ports.set(`${e.protocol}/${e.port}`, { port: String(e.port), protocol: e.protocol });
      group.flows += e.flows;
      group.observed.add(e.observed);
      byEntity.set(e.entity, group);
    }
    return [...byEntity.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([entity, group]) => {
        const ports = [...group.ports.values()].sort((a, b) => Number(a.port) - Number(b.port));
        backing.push({
          policy: `${s.workload.namespace}/${name}`,
          direction,
          peer: `entity ${entity}`,
          ports: ports.map((p) => `${p.protocol}/${p.port}`).join(', '),
          flows: group.flows,
          observed: listed([...group.observed].sort()),
          opens: `admits every ${entity === 'kube-apiserver' ? 'API server address' : 'node'} Cilium knows, not only the observed ${[...group.observed].join(', ')}`,
        });
        return {
          [direction === 'ingress' ? 'fromEntities' : 'toEntities']: [entity],
          toPorts: [{ ports }],
        };
      });
  };
  const ingress = rules('ingress');
  const egress = rules('egress');
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: {
      name,
      namespace: s.workload.namespace,
      annotations: {
        'netguard.dev/advised': `from observed flows of ${s.workload.workloadKind} ${s.workload.name} with the API server or nodes; review before applying`,
      },
    },
    spec: {
      endpointSelector: { matchLabels: selector },
      ...(ingress.length > 0 ? { ingress } : {}),
      ...(egress.length > 0 ? { egress } : {}),
    },
  };
}

/**
 * One least-privilege NetworkPolicy per judged workload seen in the flows: ingress from each
 * observed client on the observed ports, egress to each observed server (and DNS, as the
 * baseline allows it), plus a CiliumNetworkPolicy for the API server and nodes. A workload
 * without stable labels gets none: its selector would name the whole namespace.
 */
function propose(resolved: readonly Resolved[], graph: ReachGraph, policy: Policy): Proposed {
  const refused: string[] = [];
  const backing: RuleBacking[] = [];
  const proposals: KubeObject[] = [];
  const subjects = [...collectSubjects(resolved, graph, policy, refused).values()].sort((a, b) =>
    a.workload.id.localeCompare(b.workload.id),
  );
  for (const s of subjects) {
    const selector = identifyingLabels(graph, s.workload, policy);
    if (selector === undefined) {
      refused.push(`${s.workload.id}: no policy proposed: ${noStableLabels(s.workload, policy)}`);
      continue;
    }
    if (s.ingress.length > 0 || s.egress.length > 0 || s.entities.length === 0)
      proposals.push(networkPolicyFor(s, selector, policy, backing));
    if (s.entities.length > 0) proposals.push(ciliumPolicyFor(s, selector, backing));
  }
  return { proposals, backing, refused };
}

const ENTITY_FIX: Readonly<Record<Entity, { what: string; cilium: string; elsewhere: string }>> = {
  'kube-apiserver': {
    what: 'the API server (webhooks, aggregated APIs, watches)',
    cilium: 'a CiliumNetworkPolicy with fromEntities/toEntities [kube-apiserver] (proposed below)',
    elsewhere:
      "elsewhere, a peer for the API server's source address: konnectivity-agent pods in kube-system where the distribution runs them, else the control-plane node or ENI addresses as an ipBlock (docs/observe.md says how to find them)",
  },
  'remote-node': {
    what: 'another node (host-network agents, scrapers, NodePort traffic)',
    cilium: 'a CiliumNetworkPolicy with fromEntities/toEntities [remote-node] (proposed below)',
    elsewhere:
      'elsewhere, an ipBlock of the node addresses (kubectl get nodes -o wide); ipBlocks match nodes on Cilium only with policy-cidr-match-mode: nodes',
  },
  host: {
    what: "the pod's own node (node-local agents and caches)",
    cilium: 'a CiliumNetworkPolicy with toEntities [host] (proposed below)',
    elsewhere: 'elsewhere, an ipBlock of the node addresses (kubectl get nodes -o wide)',
  },
};

/** One line per flow the enforce baseline cuts at the API server or a node, with the fix; a waiver opens no traffic. */
function entityCutLines(judged: readonly JudgedFlow[]): string[] {
  return judged
    .filter((f) => f.entity !== undefined && !f.enforced.allowed)
    .map((f) => {
      const fix = ENTITY_FIX[f.entity ?? 'kube-apiserver'];
      return `${f.from} → ${f.to} ${f.protocol}/${f.port}: traffic with ${fix.what} would be cut. Fix on Cilium (this capture): ${fix.cilium}; ${fix.elsewhere}. A waiver opens no traffic.`;
    });
}

/**
 * Per namespace: observed flows that leave or enter it, and how many its own enforce baseline
 * would cut (its egress for flows leaving, its ingress for flows entering; both inside it).
 */
function namespaceCuts(
  judged: readonly JudgedFlow[],
  resolved: readonly Resolved[],
  policy: Policy,
): NamespaceCuts[] {
  const counts = new Map<string, { observed: number; cut: number }>();
  const bump = (ns: string | undefined, cut: boolean): void => {
    if (ns === undefined || policy.excludedNamespaces.has(ns)) return;
    const entry = counts.get(ns) ?? { observed: 0, cut: 0 };
    entry.observed++;
    if (cut) entry.cut++;
    counts.set(ns, entry);
  };
  judged.forEach((flow, index) => {
    const r = resolved[index];
    if (r === undefined) return;
    const srcNs = r.src.kind === 'workload' ? r.src.namespace : undefined;
    const dstNs = r.dst.kind === 'workload' ? r.dst.namespace : undefined;
    if (srcNs !== undefined && srcNs === dstNs) {
      bump(srcNs, !flow.enforced.allowed);
      return;
    }
    bump(srcNs, !flow.enforced.egress.allowed);
    bump(dstNs, !flow.enforced.ingress.allowed);
  });
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([namespace, c]) => ({ namespace, ...c }));
}

/** Skipped records, counted by reason: `7 replies` rather than seven lines. */
function skippedSummary(skipped: Readonly<Record<string, number>>): string[] {
  return Object.entries(skipped).map(
    ([reason, count]) => `skipped ${count} record${count === 1 ? '' : 's'}: ${reason}`,
  );
}

/** Resolves flow ends to workloads and merges flows that name the same pair (pods of one workload). */
function resolveFlows(flows: FlowSet, graph: ReachGraph, notes: string[]): Resolved[] {
  const merged = new Map<string, Resolved>();
  for (const flow of flows.flows) {
    const src = resolveEnd(graph, flow.from);
    const dst = resolveEnd(graph, flow.to);
    if (typeof src === 'string' || typeof dst === 'string') {
      notes.push(`flow not judged: ${typeof src === 'string' ? src : String(dst)}`);
      continue;
    }
    const key = `${src.id} ${dst.id} ${flow.protocol}/${flow.port}`;
    const seen = merged.get(key);
    merged.set(
      key,
      seen === undefined
        ? { flow, src, dst }
        : {
            ...seen,
            flow: {
              ...seen.flow,
              count: seen.flow.count + flow.count,
              dropped: seen.flow.dropped && flow.dropped,
            },
          },
    );
  }
  return [...merged.values()];
}

/** Judges observed flows today and as enforced, and proposes the policies that keep them flowing. */
export function advise(
  flows: FlowSet,
  today: ReachGraph,
  enforced: ReachGraph,
  policy: Policy,
): Advice {
  const notes = skippedSummary(flows.skippedByReason);
  const resolved = resolveFlows(flows, today, notes);
  // A tenant can make any connection attempt; only traffic that flowed becomes an allow rule.
  const dropped = resolved.filter((r) => r.flow.dropped);
  if (dropped.length > 0) {
    notes.push(
      `${dropped.length} flow${dropped.length === 1 ? ' was' : 's were'} only ever dropped: listed, not proposed ` +
        `(an attempt is not a dependency; allow it by hand if it is one): ` +
        dropped.map(flowText).join(', '),
    );
  }
  const judged = resolved.map(({ flow, src, dst }): JudgedFlow => {
    const entity =
      (src.kind === 'external' ? src.entity : undefined) ??
      (dst.kind === 'external' ? dst.entity : undefined);
    return {
      from: src.id,
      to: dst.id,
      port: flow.port,
      protocol: flow.protocol,
      count: flow.count,
      dropped: flow.dropped,
      today: today.decide(src, dst, flow.port, flow.protocol),
      enforced: enforced.decide(src, dst, flow.port, flow.protocol),
      ...(entity === undefined ? {} : { entity }),
    };
  });
  const seen = new Set<string>();
  for (const end of resolved.flatMap((r) => [r.src, r.dst])) {
    if (end.kind !== 'workload' || seen.has(end.id) || policy.excludedNamespaces.has(end.namespace))
      continue;
    seen.add(end.id);
    const others = alsoSelected(today, end, policy);
    if (others.length > 0) {
      notes.push(
        `${end.id} has no labels of its own: rules naming it also name ${others.join(', ')}; give it a distinct app label`,
      );
    }
  }
  const proposed = propose(
    resolved.filter((r) => !r.flow.dropped),
    today,
    policy,
  );
  const complete = flows.lostEvents === 0 && flows.unavailableNodes.length === 0;
  return {
    flows: judged,
    allowedToday: judged.filter((f) => f.today.allowed).length,
    cutByEnforce: judged.filter((f) => !f.enforced.allowed).length,
    namespaces: namespaceCuts(judged, resolved, policy),
    proposals: proposed.proposals,
    backing: proposed.backing,
    refused: proposed.refused,
    entityCuts: entityCutLines(judged),
    capture: {
      lostEvents: flows.lostEvents,
      unavailableNodes: [...flows.unavailableNodes],
      skipped: { ...flows.skippedByReason },
      complete,
    },
    checks: [],
    notes,
  };
}
