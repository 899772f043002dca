/**
 * NP013's counts for dialect policies (DESIGN "NP013 size-bound"): rules, peers, ports and values
 * (matchExpressions values, except entries, Cilium specs, FQDN patterns, network entries), on the
 * parsed JSON, before anything compiles it. Loops only: a hostile size costs time, never the stack.
 */
import {
  ADMIN_NETWORK_POLICY,
  BASELINE_ADMIN_NETWORK_POLICY,
  CALICO_GLOBAL_POLICY,
  CALICO_POLICY,
  CILIUM_CLUSTERWIDE_POLICY,
  CILIUM_POLICY,
  CLUSTER_NETWORK_POLICY,
} from '../../vocabulary.ts';
import type { SizeLimits } from '../../config/limits.ts';
import { excessOf, type ItemCounts } from '../size-bound.ts';

type Counts = { rules: number; peers: number; ports: number; values: number };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const at = (value: unknown, key: string): unknown => (isRecord(value) ? value[key] : undefined);

const listAt = (value: unknown, key: string): readonly unknown[] => {
  const found = at(value, key);
  return Array.isArray(found) ? found : [];
};

/** Values of a selector's matchExpressions. */
function selectorValues(selector: unknown): number {
  let count = 0;
  for (const term of listAt(selector, 'matchExpressions')) count += listAt(term, 'values').length;
  return count;
}

const CILIUM_DIRECTIONS = ['ingress', 'egress', 'ingressDeny', 'egressDeny'] as const;

/** One Cilium rule: each `from…`/`to…` list entry is a peer; toPorts entries' ports; L7 rules as values. */
function countCiliumRule(rule: unknown, counts: Counts): void {
  counts.rules += 1;
  if (!isRecord(rule)) return;
  for (const key of Object.keys(rule)) {
    if (!/^(from|to)[A-Z]/.test(key) || key === 'toPorts') continue;
    const list = rule[key];
    if (!Array.isArray(list)) continue;
    counts.peers += list.length;
    for (const peer of list) {
      counts.values += selectorValues(peer) + listAt(peer, 'except').length;
      if (key === 'toFQDNs') counts.values += 1;
      counts.values += selectorValues(at(peer, 'cidrGroupSelector'));
    }
  }
  for (const entry of listAt(rule, 'toPorts')) {
    counts.ports += listAt(entry, 'ports').length;
    const l7 = at(entry, 'rules');
    if (isRecord(l7))
      for (const key of Object.keys(l7)) {
        const list = l7[key];
        if (Array.isArray(list)) counts.values += list.length;
      }
  }
}

function countCilium(object: unknown, counts: Counts): void {
  const blocks: unknown[] = [];
  if (isRecord(at(object, 'spec'))) blocks.push(at(object, 'spec'));
  const specs = listAt(object, 'specs');
  counts.values += specs.length;
  for (const spec of specs) blocks.push(spec);
  for (const spec of blocks) {
    counts.values += selectorValues(at(spec, 'endpointSelector'));
    counts.values += selectorValues(at(spec, 'nodeSelector'));
    for (const direction of CILIUM_DIRECTIONS)
      for (const rule of listAt(spec, direction)) countCiliumRule(rule, counts);
  }
}

/** Calico: nets, notNets and each selector written are peers; ports and notPorts are ports. */
function countCalico(object: unknown, counts: Counts): void {
  const spec = at(object, 'spec');
  for (const direction of ['ingress', 'egress'] as const)
    for (const rule of listAt(spec, direction)) {
      counts.rules += 1;
      for (const side of ['source', 'destination'] as const) {
        const entity = at(rule, side);
        counts.peers += listAt(entity, 'nets').length + listAt(entity, 'notNets').length;
        for (const key of ['selector', 'notSelector', 'namespaceSelector'] as const)
          if (typeof at(entity, key) === 'string') counts.peers += 1;
        counts.ports += listAt(entity, 'ports').length + listAt(entity, 'notPorts').length;
        counts.values += listAt(at(entity, 'serviceAccounts'), 'names').length;
      }
    }
}

/** ClusterNetworkPolicy/ANP/BANP: from/to entries are peers; networks and domain names values. */
function countClusterNetworkPolicy(object: unknown, counts: Counts): void {
  const spec = at(object, 'spec');
  const subject = at(spec, 'subject');
  counts.values +=
    selectorValues(at(subject, 'namespaces')) +
    selectorValues(at(at(subject, 'pods'), 'namespaceSelector')) +
    selectorValues(at(at(subject, 'pods'), 'podSelector'));
  for (const [direction, side] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const)
    for (const rule of listAt(spec, direction)) {
      counts.rules += 1;
      counts.ports += listAt(rule, 'ports').length + listAt(rule, 'protocols').length;
      for (const peer of listAt(rule, side)) {
        counts.peers += 1;
        const pods = at(peer, 'pods');
        counts.values +=
          selectorValues(at(peer, 'namespaces')) +
          selectorValues(at(pods, 'namespaceSelector')) +
          selectorValues(at(pods, 'podSelector')) +
          listAt(peer, 'networks').length +
          listAt(peer, 'domainNames').length;
      }
    }
}

const COUNTERS: Readonly<Record<string, (object: unknown, counts: Counts) => void>> = {
  [CILIUM_POLICY]: countCilium,
  [CILIUM_CLUSTERWIDE_POLICY]: countCilium,
  [CALICO_POLICY]: countCalico,
  [CALICO_GLOBAL_POLICY]: countCalico,
  [CLUSTER_NETWORK_POLICY]: countClusterNetworkPolicy,
  [ADMIN_NETWORK_POLICY]: countClusterNetworkPolicy,
  [BASELINE_ADMIN_NETWORK_POLICY]: countClusterNetworkPolicy,
};

/** The counts of a dialect policy; undefined for a kind that is no dialect policy. */
export function countDialectPolicy(judgedKind: string, object: unknown): ItemCounts | undefined {
  const counter = Object.hasOwn(COUNTERS, judgedKind) ? COUNTERS[judgedKind] : undefined;
  if (counter === undefined) return undefined;
  const counts: Counts = { rules: 0, peers: 0, ports: 0, values: 0 };
  counter(object, counts);
  return counts;
}

/**
 * Whether a cached dialect policy is within NP013's limits: one past them is never compiled (a
 * neighbour, or a policy a set write is judged through, that netguard does not read; `audit` and
 * `check` report NP013 on it).
 */
export function withinLimits(judgedKind: string, object: unknown, limits: SizeLimits): boolean {
  const counts = countDialectPolicy(judgedKind, object);
  return counts === undefined || excessOf(counts, limits).length === 0;
}
