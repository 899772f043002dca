import { contains } from '../cidr.ts';
import type { Policy } from '../config/policy.ts';
import { desiredBaseline } from '../model/baseline-policies.ts';
import { baselineAnnotations } from '../model/baseline-annotations.ts';
import { ALLOW_DNS_POLICY, type KubeObject } from '../vocabulary.ts';
import type { Entity, ObservedFlow } from './flows.ts';
import type { ReachGraph } from './graph.ts';
import type { Endpoint, External, Protocol, Workload } from './model.ts';
import { alsoSelected, identifyingLabels, noStableLabels } from './selectors.ts';
import { fqdnPolicyFor, type NamedEgress } from './propose-fqdn.ts';
import { listed, type RuleBacking } from './backing.ts';

export type { RuleBacking };

/** An observed flow with both ends resolved to workloads or addresses. */
export interface Resolved {
  readonly flow: ObservedFlow;
  readonly src: Endpoint;
  readonly dst: Endpoint;
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
  /** Egress to outside addresses the capture names by DNS (Cilium): toFQDNs, not ipBlocks. */
  readonly names: NamedEgress[];
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

/** How proposals may be written: with Cilium and DNS names in the capture, toFQDNs for named destinations. */
export interface ProposeOptions {
  readonly fqdn?: boolean;
}

export interface Proposed {
  readonly proposals: KubeObject[];
  readonly backing: RuleBacking[];
  readonly refused: string[];
}

export const flowText = (r: Resolved): string =>
  `${r.src.id} → ${r.dst.id} ${r.flow.protocol}/${r.flow.port}`;

/** Collects, per judged workload, the rules its observed flows need; refuses what no selector can name. */
function collectSubjects(
  resolved: readonly Resolved[],
  graph: ReachGraph,
  policy: Policy,
  refused: string[],
  options: ProposeOptions,
): Map<string, Subject> {
  const judged = (e: Endpoint): e is Workload =>
    e.kind === 'workload' && !policy.excludedNamespaces.has(e.namespace);
  const subjects = new Map<string, Subject>();
  const subject = (w: Workload): Subject => {
    const found = subjects.get(w.id) ?? {
      workload: w,
      ingress: [],
      egress: [],
      names: [],
      entities: [],
    };
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
    const names = r.flow.names ?? [];
    if (
      options.fqdn === true &&
      direction === 'egress' &&
      other.kind === 'external' &&
      names.length > 0
    ) {
      subject(self).names.push({
        names,
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
export function propose(
  resolved: readonly Resolved[],
  graph: ReachGraph,
  policy: Policy,
  options: ProposeOptions = {},
): Proposed {
  const refused: string[] = [];
  const backing: RuleBacking[] = [];
  const proposals: KubeObject[] = [];
  const subjects = [...collectSubjects(resolved, graph, policy, refused, options).values()].sort(
    (a, b) => a.workload.id.localeCompare(b.workload.id),
  );
  for (const s of subjects) {
    const selector = identifyingLabels(graph, s.workload, policy);
    if (selector === undefined) {
      refused.push(`${s.workload.id}: no policy proposed: ${noStableLabels(s.workload, policy)}`);
      continue;
    }
    if (
      s.ingress.length > 0 ||
      s.egress.length > 0 ||
      (s.entities.length === 0 && s.names.length === 0)
    )
      proposals.push(networkPolicyFor(s, selector, policy, backing));
    if (s.names.length > 0)
      proposals.push(fqdnPolicyFor(s.workload, s.names, selector, policy, backing));
    if (s.entities.length > 0) proposals.push(ciliumPolicyFor(s, selector, backing));
  }
  return { proposals, backing, refused };
}
