import { contains, parseCidr } from '../cidr.ts';
import type { Policy } from '../config/policy.ts';
import type { KubeObject } from '../vocabulary.ts';
import { desiredBaseline } from '../model/baseline-policies.ts';
import { ALLOW_DNS_POLICY } from '../vocabulary.ts';
import { baselineAnnotations } from '../model/baseline-annotations.ts';
import type { FlowEnd, FlowSet, ObservedFlow } from './flows.ts';
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
  /** Flows naming workloads the input does not have, and records the reader skipped. */
  readonly notes: readonly string[];
}

interface Resolved {
  readonly flow: ObservedFlow;
  readonly src: Endpoint;
  readonly dst: Endpoint;
}

function resolveEnd(graph: ReachGraph, end: FlowEnd): Endpoint | string {
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

/** The labels that pick out exactly this workload in its namespace: the required labels when they do, else all stable labels. */
function identifyingLabels(
  graph: ReachGraph,
  workload: Workload,
  policy: Policy,
): Record<string, string> {
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
      (candidate) => workload.labels[candidate] !== undefined,
    );
    const value = key === undefined ? undefined : workload.labels[key];
    if (key !== undefined && value !== undefined) required[key] = value;
  }
  if (picks(required)) return required;
  const ephemeral = new Set(policy.networkPolicies.ephemeralLabels);
  return Object.fromEntries(Object.entries(workload.labels).filter(([key]) => !ephemeral.has(key)));
}

/** Workloads besides `workload` that its identifying labels also select (none when it has its own app label). */
function alsoSelected(graph: ReachGraph, workload: Workload, policy: Policy): string[] {
  const labels = Object.entries(identifyingLabels(graph, workload, policy));
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

/**
 * The peer a rule of `subject` names for `other`. Internet clients of a frontend (tier=frontend,
 * the only tier NP012 lets face the internet) become the whole internet minus the cluster ranges;
 * every other address is named alone (/32, /128).
 */
function peerFor(
  graph: ReachGraph,
  policy: Policy,
  subject: Workload,
  other: Endpoint,
  direction: 'ingress' | 'egress',
): KubeObject {
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
    return {
      ipBlock: { cidr: v4 ? '0.0.0.0/0' : '::/0', ...(except.length > 0 ? { except } : {}) },
    };
  }
  const subjectNamespace = subject.namespace;
  if (other.kind === 'external') {
    return { ipBlock: { cidr: `${other.id}/${other.address.family === 'ipv4' ? 32 : 128}` } };
  }
  const podSelector = { matchLabels: identifyingLabels(graph, other, policy) };
  if (other.namespace === subjectNamespace) return { podSelector };
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': other.namespace } },
    podSelector,
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

/** Rules grouped by peer, each with the ports seen for it, in a stable order. */
function rulesOf(
  entries: readonly { peer: KubeObject; port: number; protocol: Protocol }[],
  field: 'from' | 'to',
): KubeObject[] {
  const byPeer = new Map<
    string,
    { peer: KubeObject; ports: Map<string, { protocol: Protocol; port: number }> }
  >();
  for (const entry of entries) {
    const key = JSON.stringify(entry.peer);
    const group = byPeer.get(key) ?? { peer: entry.peer, ports: new Map() };
    group.ports.set(`${entry.protocol}/${entry.port}`, {
      protocol: entry.protocol,
      port: entry.port,
    });
    byPeer.set(key, group);
  }
  return [...byPeer.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, group]) => ({
      [field]: [group.peer],
      ports: [...group.ports.values()].sort(
        (a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol),
      ),
    }));
}

function dnsEgressRules(policy: Policy): KubeObject[] {
  const allowDns = desiredBaseline(baselineAnnotations('enforce'), policy.networkPolicies.dns).find(
    (p) => p.name === ALLOW_DNS_POLICY,
  );
  const egress = allowDns?.spec['egress'];
  return Array.isArray(egress) ? structuredClone(egress) : [];
}

/**
 * One least-privilege NetworkPolicy per judged workload seen in the flows: ingress from each
 * observed client on the observed ports, egress to each observed server (and DNS, as the
 * baseline allows it). Both ends are needed: in enforce, egress and ingress are denied by default.
 */
function propose(resolved: readonly Resolved[], graph: ReachGraph, policy: Policy): KubeObject[] {
  const judged = (e: Endpoint): e is Workload =>
    e.kind === 'workload' && !policy.excludedNamespaces.has(e.namespace);
  const subjects = new Map<
    string,
    {
      workload: Workload;
      ingress: { peer: KubeObject; port: number; protocol: Protocol }[];
      egress: { peer: KubeObject; port: number; protocol: Protocol }[];
    }
  >();
  const subject = (w: Workload) => {
    const found = subjects.get(w.id) ?? { workload: w, ingress: [], egress: [] };
    subjects.set(w.id, found);
    return found;
  };
  for (const { flow, src, dst } of resolved) {
    if (judged(src)) {
      const entry = subject(src);
      if (!isDns(policy, dst, flow.port))
        entry.egress.push({
          peer: peerFor(graph, policy, src, dst, 'egress'),
          port: flow.port,
          protocol: flow.protocol,
        });
    }
    if (judged(dst))
      subject(dst).ingress.push({
        peer: peerFor(graph, policy, dst, src, 'ingress'),
        port: flow.port,
        protocol: flow.protocol,
      });
  }
  return [...subjects.values()]
    .sort((a, b) => a.workload.id.localeCompare(b.workload.id))
    .map(({ workload, ingress, egress }) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: `${workload.name.slice(0, 244)}-observed`,
        namespace: workload.namespace,
        annotations: {
          'netguard.dev/advised': `from observed flows of ${workload.workloadKind} ${workload.name}; review before applying`,
        },
      },
      spec: {
        podSelector: { matchLabels: identifyingLabels(graph, workload, policy) },
        policyTypes: ['Ingress', 'Egress'],
        ingress: rulesOf(ingress, 'from'),
        egress: [...dnsEgressRules(policy), ...rulesOf(egress, 'to')],
      },
    }));
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
function skippedSummary(skipped: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of skipped) {
    const reason = line.replace(/^.*?:\d+: /, '');
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].map(
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
  const notes = skippedSummary(flows.skipped);
  const resolved = resolveFlows(flows, today, notes);
  // A tenant can make any connection attempt; only traffic that flowed becomes an allow rule.
  const dropped = resolved.filter((r) => r.flow.dropped);
  if (dropped.length > 0) {
    notes.push(
      `${dropped.length} flow${dropped.length === 1 ? ' was' : 's were'} only ever dropped: listed, not proposed ` +
        `(an attempt is not a dependency; allow it by hand if it is one): ` +
        dropped
          .map((r) => `${r.src.id} → ${r.dst.id} ${r.flow.protocol}/${r.flow.port}`)
          .join(', '),
    );
  }
  const judged = resolved.map(
    ({ flow, src, dst }): JudgedFlow => ({
      from: src.id,
      to: dst.id,
      port: flow.port,
      protocol: flow.protocol,
      count: flow.count,
      dropped: flow.dropped,
      today: today.decide(src, dst, flow.port, flow.protocol),
      enforced: enforced.decide(src, dst, flow.port, flow.protocol),
    }),
  );
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
  return {
    flows: judged,
    allowedToday: judged.filter((f) => f.today.allowed).length,
    cutByEnforce: judged.filter((f) => !f.enforced.allowed).length,
    namespaces: namespaceCuts(judged, resolved, policy),
    proposals: propose(
      resolved.filter((r) => !r.flow.dropped),
      today,
      policy,
    ),
    notes,
  };
}
