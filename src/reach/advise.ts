import { parseCidr } from '../cidr.ts';
import type { Policy } from '../config/policy.ts';
import type { KubeObject } from '../vocabulary.ts';
import type { Entity, FlowEnd, FlowSet } from './flows.ts';
import type { ReachGraph } from './graph.ts';
import type { Endpoint, Protocol, Verdict } from './model.ts';
import {
  flowText,
  propose,
  type ProposeOptions,
  type Resolved,
  type RuleBacking,
} from './propose.ts';
import { alsoSelected } from './selectors.ts';
import { mergeNames } from './dns-names.ts';

export type { RuleBacking } from './propose.ts';

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
    const names = mergeNames(seen?.flow.names, flow.names);
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
              ...(names === undefined ? {} : { names }),
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
  options: ProposeOptions = {},
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
  const named = resolved.filter((r) => !r.flow.dropped && (r.flow.names?.length ?? 0) > 0);
  if (named.length > 0 && options.fqdn !== true)
    notes.push(
      `${named.length} flow${named.length === 1 ? '' : 's'} carried DNS names, but Cilium was not found among the input's DaemonSets: toFQDNs needs Cilium, so those destinations are proposed as ipBlocks`,
    );
  const proposed = propose(
    resolved.filter((r) => !r.flow.dropped),
    today,
    policy,
    options,
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
