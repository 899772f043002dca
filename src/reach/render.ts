import { terminalSafe } from '../text.ts';
import type { Connection, OutsideRules, ReachGraph, UnmodelledNote } from './graph.ts';
import type { HostNetworkAnswer } from './host-network.ts';
import type { Endpoint, Verdict } from './model.ts';

/** The whole picture: every allowed connection on declared ports, and each workload's way out. */
export interface ReachReport {
  readonly asEnforced: boolean;
  readonly namespace: string | undefined;
  readonly workloads: readonly string[];
  readonly connections: readonly Connection[];
  readonly outside: readonly {
    readonly workload: string;
    readonly egress: OutsideRules;
    readonly ingress: OutsideRules;
  }[];
  /** Policies reach does not (wholly) model: answers for the workloads they select may be wrong. */
  readonly notModelled: readonly UnmodelledNote[];
}

export function reachReport(
  graph: ReachGraph,
  options: { asEnforced: boolean; namespace: string | undefined },
): ReachReport {
  const scoped =
    options.namespace === undefined ? graph.workloads : graph.workloadsIn(options.namespace);
  return {
    asEnforced: options.asEnforced,
    namespace: options.namespace,
    workloads: graph.workloads.map((w) => w.id),
    connections: graph.connections(options.namespace),
    outside: scoped.map((w) => ({
      workload: w.id,
      egress: graph.outside(w, 'egress'),
      ingress: graph.outside(w, 'ingress'),
    })),
    notModelled: graph.unmodelledNotes(),
  };
}

/** One line per policy reach does not (wholly) model, naming the workloads whose answers it may change. */
export function notModelledLines(notes: readonly UnmodelledNote[]): string[] {
  return notes.map(
    (note) =>
      `NOT MODELLED: ${terminalSafe(note.policy)}: ${terminalSafe(note.reason)} (selects ${note.selects.length === 0 ? 'no workload of the input' : note.selects.map(terminalSafe).join(', ')})`,
  );
}

// Names come from manifests or the cluster: printed without terminal control characters.
const portLabel = (c: Connection): string =>
  `${c.protocol}/${c.port}${c.portName === undefined ? '' : ` (${c.portName})`}`;

/** Connections grouped by pair: `a → b` once, with every port between them. */
function byPair(
  connections: readonly Connection[],
): Map<string, { from: string; to: string; ports: string[] }> {
  const pairs = new Map<string, { from: string; to: string; ports: string[] }>();
  for (const c of connections) {
    const key = `${c.from}\u0000${c.to}`;
    const pair = pairs.get(key) ?? { from: c.from, to: c.to, ports: [] };
    pair.ports.push(`${c.protocol}/${c.port}`);
    pairs.set(key, pair);
  }
  return pairs;
}

const outsideText = (rules: OutsideRules): string =>
  rules === 'any'
    ? 'any address (not restricted)'
    : rules.length === 0
      ? 'none'
      : rules.map((b) => `${b.cidr} on ${b.ports}`).join('; ');

export function renderReachText(report: ReachReport): string {
  const scope = report.namespace === undefined ? 'the cluster' : `namespace ${report.namespace}`;
  const lines = [
    `Reachability in ${scope}${report.asEnforced ? ', as enforced (every judged namespace with the enforce baseline)' : " under today's NetworkPolicies"}:`,
    ...report.connections.map(
      (c) => `  ${terminalSafe(c.from)} → ${terminalSafe(c.to)} ${portLabel(c)}`,
    ),
    '',
    "Outside the cluster's workloads (internet, other addresses):",
    ...report.outside.map(
      (o) =>
        `  ${terminalSafe(o.workload)}: to ${terminalSafe(outsideText(o.egress))}; from ${terminalSafe(outsideText(o.ingress))}`,
    ),
    '',
    `${report.connections.length} allowed connections on declared container ports.`,
    ...notModelledLines(report.notModelled),
  ];
  return `${lines.join('\n')}\n`;
}

export function renderReachJson(report: ReachReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const namespaceOf = (id: string): string => id.slice(0, id.indexOf('/'));

function groupByNamespace(ids: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const id of ids) groups.set(namespaceOf(id), [...(groups.get(namespaceOf(id)) ?? []), id]);
  return groups;
}

/** Workloads that appear in the picture: scoped ones and every peer of a connection. */
function shown(report: ReachReport): string[] {
  const ids = new Set(report.outside.map((o) => o.workload));
  for (const c of report.connections) ids.add(c.from).add(c.to);
  return [...ids].sort();
}

/** Address blocks a workload's rules name, as picture edges: `from` and `to` are a block or a workload. */
function outsideEdges(report: ReachReport): { from: string; to: string; label: string }[] {
  const edges: { from: string; to: string; label: string }[] = [];
  for (const o of report.outside) {
    if (o.egress !== 'any')
      for (const b of o.egress) edges.push({ from: o.workload, to: b.cidr, label: b.ports });
    if (o.ingress !== 'any')
      for (const b of o.ingress) edges.push({ from: b.cidr, to: o.workload, label: b.ports });
  }
  return edges;
}

const dotQuote = (text: string): string => `"${terminalSafe(text).replace(/["\\]/g, '\\$&')}"`;

/** Graphviz: one cluster per namespace, one edge per pair labelled with its ports. */
export function renderReachDot(report: ReachReport): string {
  const lines = ['digraph reach {', '  rankdir=LR;', '  node [shape=box, style=rounded];'];
  [...groupByNamespace(shown(report))].forEach(([namespace, ids], index) => {
    lines.push(`  subgraph cluster_${index} {`, `    label=${dotQuote(namespace)};`);
    for (const id of ids)
      lines.push(`    ${dotQuote(id)} [label=${dotQuote(id.slice(namespace.length + 1))}];`);
    lines.push('  }');
  });
  for (const pair of byPair(report.connections).values()) {
    lines.push(
      `  ${dotQuote(pair.from)} -> ${dotQuote(pair.to)} [label=${dotQuote(pair.ports.join(', '))}];`,
    );
  }
  const named = new Set(report.workloads);
  for (const edge of outsideEdges(report)) {
    for (const end of [edge.from, edge.to]) {
      if (named.has(end)) continue;
      named.add(end);
      lines.push(`  ${dotQuote(end)} [shape=ellipse, style=dashed];`);
    }
    lines.push(
      `  ${dotQuote(edge.from)} -> ${dotQuote(edge.to)} [label=${dotQuote(edge.label)}, style=dashed];`,
    );
  }
  // Comments, so the picture never hides that some policies were not modelled.
  for (const line of notModelledLines(report.notModelled)) lines.push(`  // ${line}`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const mermaidText = (text: string): string => terminalSafe(text).replace(/["<>|]/g, ' ');

/** Mermaid flowchart (renders in GitHub Markdown): a subgraph per namespace, edges labelled with ports. */
export function renderReachMermaid(report: ReachReport): string {
  // Mermaid ids allow only word characters: number the nodes, the label keeps the real name.
  const ids = new Map<string, string>();
  const idOf = (name: string): string =>
    ids.get(name) ?? ids.set(name, `n${ids.size}`).get(name) ?? '';
  const lines = ['flowchart LR'];
  [...groupByNamespace(shown(report))].forEach(([namespace, members], index) => {
    lines.push(`  subgraph ns${index}["${mermaidText(namespace)}"]`);
    for (const id of members)
      lines.push(`    ${idOf(id)}["${mermaidText(id.slice(namespace.length + 1))}"]`);
    lines.push('  end');
  });
  for (const pair of byPair(report.connections).values()) {
    lines.push(
      `  ${idOf(pair.from)} -->|"${mermaidText(pair.ports.join(', '))}"| ${idOf(pair.to)}`,
    );
  }
  for (const edge of outsideEdges(report)) {
    for (const end of [edge.from, edge.to])
      if (!ids.has(end)) lines.push(`  ${idOf(end)}(["${mermaidText(end)}"])`);
    lines.push(`  ${idOf(edge.from)} -.->|"${mermaidText(edge.label)}"| ${idOf(edge.to)}`);
  }
  for (const line of notModelledLines(report.notModelled)) lines.push(`  %% ${line}`);
  return `${lines.join('\n')}\n`;
}

/** The one-question form: exactly the JSON DESIGN.md fixes. */
export function renderVerdictJson(
  verdict: Verdict,
  hostNetwork?: HostNetworkAnswer,
  notModelled: readonly UnmodelledNote[] = [],
): string {
  const side = (s: Verdict['egress']): { allowed: boolean; policies: string[] } => ({
    allowed: s.allowed,
    policies: [...s.policies],
  });
  return `${JSON.stringify({ allowed: verdict.allowed, egress: side(verdict.egress), ingress: side(verdict.ingress), ...(hostNetwork === undefined ? {} : { hostNetwork }), ...(notModelled.length === 0 ? {} : { notModelled }) })}\n`;
}

function hostNetworkText(h: HostNetworkAnswer | undefined): string {
  if (h === undefined) return '';
  const who = h.workloads.map(terminalSafe).join(' and ');
  if (h.answer === 'not governed by NetworkPolicy on this CNI')
    return `  hostNetwork: ${who} — not governed by NetworkPolicy on this CNI (${h.cni ?? '?'}: no host endpoints); answered as open on that side\n`;
  return `  hostNetwork: ${who} — undefined by Kubernetes (the CNI decides): ${h.ifApplied === true ? 'allowed' : 'denied'} if it applies NetworkPolicy to host-network pods, ${h.ifNotApplied ? 'allowed' : 'denied'} if it does not\n`;
}

export function renderVerdictText(
  question: { from: Endpoint; to: Endpoint; port: number; protocol: string },
  verdict: Verdict,
  hostNetwork?: HostNetworkAnswer,
  notModelled: readonly UnmodelledNote[] = [],
): string {
  const side = (name: 'egress' | 'ingress', s: Verdict['egress']): string => {
    const subject = name === 'egress' ? question.from : question.to;
    if (subject.kind === 'external')
      return `${name}: an address outside the cluster (no NetworkPolicy applies)`;
    if (s.note !== undefined) return `${name}: allowed, ${terminalSafe(s.note)}`;
    if (s.policies.length === 0)
      return `${name}: not restricted (no policy selects the pod for ${name})`;
    return `${name}: ${s.allowed ? 'allowed by' : 'denied; isolated by'} ${s.policies.map(terminalSafe).join(', ')}`;
  };
  const head = `${terminalSafe(question.from.id)} → ${terminalSafe(question.to.id)} ${question.protocol}/${question.port}: ${verdict.allowed ? 'allowed' : 'denied'}`;
  const notes = notModelledLines(notModelled).map((line) => `  ${line}\n`);
  return `${head}\n  ${side('egress', verdict.egress)}\n  ${side('ingress', verdict.ingress)}\n${hostNetworkText(hostNetwork)}${notes.join('')}`;
}
