import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { field } from '../object-access.ts';
import { PROTOCOLS, type Protocol } from './model.ts';
import { dnsNamesOf, mergeNames } from './dns-names.ts';

/** Cilium's reserved identities that NetworkPolicy still cuts: the API server, other nodes, and (as a destination) the pod's own node. */
export type Entity = 'kube-apiserver' | 'remote-node' | 'host';

/** One end of an observed flow: a workload (with the names it may go by), a reserved entity, or an address. */
export type FlowEnd =
  | { readonly kind: 'workload'; readonly namespace: string; readonly names: readonly string[] }
  | { readonly kind: 'entity'; readonly entity: Entity; readonly address: string }
  | { readonly kind: 'address'; readonly address: string };

export interface ObservedFlow {
  readonly from: FlowEnd;
  readonly to: FlowEnd;
  readonly port: number;
  readonly protocol: Protocol;
  /** How many records said the same (replicas, repeats). */
  readonly count: number;
  /** Every record of it was dropped (Hubble DROPPED): an attempt, not a working dependency. */
  readonly dropped: boolean;
  /** DNS names the destination address was reached by (Hubble `destination_names`), when any. */
  readonly names?: readonly string[] | undefined;
}

export interface FlowSet {
  readonly flows: ObservedFlow[];
  /** The first records skipped, with file, line and why (a reply, a malformed line). */
  readonly skipped: string[];
  /** Every skipped record, counted by reason. */
  readonly skippedByReason: Record<string, number>;
  /** Skipped records that were not flows we can read (bad JSON, bad CSV fields): input problems, not traffic. */
  problems: number;
  /** Events Hubble says it dropped before they reached the capture (lost_events records). */
  lostEvents: number;
  /** Nodes Hubble Relay reported unavailable or failing while the capture ran (node_status records). */
  readonly unavailableNodes: string[];
  /** Requests seen so far, as `PROTO srcIP:srcPort>dstIP:dstPort`: a later packet on the reverse tuple is their reply. */
  readonly requests: Set<string>;
}

export const emptyFlowSet = (): FlowSet => ({
  flows: [],
  skipped: [],
  skippedByReason: {},
  problems: 0,
  lostEvents: 0,
  unavailableNodes: [],
  requests: new Set(),
});

/** Bounds what one flow file can make us hold: distinct flows, remembered problems and request tuples. */
const MAX_DISTINCT_FLOWS = 100_000;
const MAX_PROBLEMS = 50;
const MAX_REQUEST_TUPLES = 1_000_000;

// `hubble observe -o json`: one object per line, the Flow under `flow` (older CLIs print it bare).
const endpointSchema = z.looseObject({
  identity: z.number().optional(),
  namespace: z.string().optional(),
  pod_name: z.string().optional(),
  labels: z.array(z.string()).optional(),
  workloads: z.array(z.looseObject({ name: z.string(), kind: z.string().optional() })).optional(),
});
const flagsSchema = z.looseObject({ SYN: z.boolean().optional(), ACK: z.boolean().optional() });
const l4PortsSchema = z.looseObject({
  source_port: z.number().int().min(0).max(65535).optional(),
  destination_port: z.number().int().min(1).max(65535),
  flags: flagsSchema.optional(),
});
const flowSchema = z.looseObject({
  verdict: z.string().optional(),
  is_reply: z.boolean().optional(),
  // The field before Cilium 1.9 (deprecated, still printed): `false` is never printed, so absent says nothing.
  reply: z.boolean().optional(),
  IP: z
    .looseObject({ source: z.string().optional(), destination: z.string().optional() })
    .optional(),
  l4: z
    .looseObject({
      TCP: l4PortsSchema.optional(),
      UDP: l4PortsSchema.optional(),
      SCTP: l4PortsSchema.optional(),
    })
    .optional(),
  source: endpointSchema.optional(),
  destination: endpointSchema.optional(),
  // Read through dnsNamesOf: hostile text, bounded and checked there.
  destination_names: z.array(z.unknown()).optional(),
});
type HubbleFlow = z.infer<typeof flowSchema>;
// A flat record must look like a flow: an object with none of these is something else.
const FLOW_FIELDS = ['verdict', 'IP', 'l4', 'source', 'destination'];
// GetFlowsResponse / ExportEvent members that are not flows.
const NOT_FLOWS = ['node_status', 'agent_event', 'debug_event'];
const lostEventsSchema = z.looseObject({
  num_events_lost: z.union([z.number().int().min(0), z.string().regex(/^\d{1,20}$/)]).optional(),
});
const nodeStatusSchema = z.looseObject({
  state_change: z.string().optional(),
  node_names: z.array(z.string()).optional(),
});

/** `::ffff:8.8.8.8` is 8.8.8.8 on the wire: addresses are read as the IPv4 they carry. */
export function canonicalAddress(text: string): string {
  const trimmed = text.trim();
  if (!ipaddr.isValid(trimmed)) return trimmed;
  const parsed = ipaddr.parse(trimmed);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    return (parsed as ipaddr.IPv6).toIPv4Address().toString();
  return parsed.toString();
}

/** Names a pod may go by, most specific first: Hubble's workload, the pod, the pod minus generated suffixes. */
function podNames(endpoint: z.infer<typeof endpointSchema>): string[] {
  const names = (endpoint.workloads ?? []).map((w) => w.name);
  const pod = endpoint.pod_name;
  if (pod !== undefined && pod !== '') {
    names.push(pod);
    const parts = pod.split('-');
    // Deployment pods: name-<replicaset hash>-<5 chars>; StatefulSet and DaemonSet pods: name-<suffix>.
    if (parts.length > 2) names.push(parts.slice(0, -2).join('-'));
    if (parts.length > 1) names.push(parts.slice(0, -1).join('-'));
  }
  return [...new Set(names)];
}

// Cilium's numeric identities for the reserved entities (pkg/identity): host 1, remote-node 6, kube-apiserver 7.
const HOST_IDENTITY = 1;
const REMOTE_NODE_IDENTITY = 6;
const APISERVER_IDENTITY = 7;

/** Which reserved entity an endpoint is; the API server wins over the node it runs on. */
function entityOf(endpoint: z.infer<typeof endpointSchema> | undefined): Entity | undefined {
  const labels = endpoint?.labels ?? [];
  const identity = endpoint?.identity;
  if (labels.includes('reserved:kube-apiserver') || identity === APISERVER_IDENTITY)
    return 'kube-apiserver';
  if (
    identity === HOST_IDENTITY ||
    (labels.includes('reserved:host') && identity !== REMOTE_NODE_IDENTITY)
  )
    return 'host';
  if (labels.includes('reserved:remote-node') || identity === REMOTE_NODE_IDENTITY)
    return 'remote-node';
  return undefined;
}

function hubbleEnd(
  endpoint: z.infer<typeof endpointSchema> | undefined,
  address: string | undefined,
  side: 'source' | 'destination',
): FlowEnd | string {
  const labels = endpoint?.labels ?? [];
  if (endpoint?.namespace !== undefined && endpoint.namespace !== '') {
    const names = podNames(endpoint);
    if (names.length === 0) return 'an endpoint with a namespace but no pod or workload name';
    return { kind: 'workload', namespace: endpoint.namespace, names };
  }
  const entity = entityOf(endpoint);
  // Kubernetes always admits traffic from the pod's own node (kubelet probes): nothing to cut or allow.
  if (entity === 'host' && side === 'source')
    return "the pod's own node (reserved:host; NetworkPolicy always admits it)";
  if (entity !== undefined) {
    if (address === undefined || address === '') return `a reserved:${entity} endpoint with no IP`;
    return { kind: 'entity', entity, address: canonicalAddress(address) };
  }
  const reserved = labels.find(
    (label) => label.startsWith('reserved:') && label !== 'reserved:world',
  );
  if (reserved !== undefined) return `a ${reserved} endpoint (NetworkPolicy does not govern it)`;
  if (address === undefined || address === '') return 'an endpoint with no namespace and no IP';
  return { kind: 'address', address: canonicalAddress(address) };
}

type Direction = 'request' | 'reply' | 'unknown';

/**
 * Which way a record goes: TCP flags first (SYN alone opens, SYN+ACK answers), then Cilium's
 * `is_reply` or the older `reply`; anything else is unknown here (the caller then looks for an
 * earlier request on the reverse 5-tuple). Captures start mid-connection: no guessing by port.
 */
function directionOf(flow: HubbleFlow): Direction {
  const flags = flow.l4?.TCP?.flags;
  if (flags?.SYN === true) return flags.ACK === true ? 'reply' : 'request';
  if (flow.is_reply === true || flow.reply === true) return 'reply';
  if (flow.is_reply === false) return 'request';
  return 'unknown';
}

/** A reason skipped, and whether the input was at fault (bad JSON, bad fields) or the record was rightly left out. */
interface Skip {
  readonly reason: string;
  readonly problem: boolean;
}
const problem = (reason: string): Skip => ({ reason, problem: true });
const ignored = (reason: string): Skip => ({ reason, problem: false });

type Parsed = Omit<ObservedFlow, 'count'>;

function tupleKey(
  protocol: string,
  src: string,
  srcPort: number,
  dst: string,
  dstPort: number,
): string {
  return `${protocol} ${src}:${srcPort}>${dst}:${dstPort}`;
}

function hubbleFlow(value: unknown, set: FlowSet): Parsed | Skip {
  const lost = field(value, 'lost_events');
  if (lost !== undefined) {
    const parsed = lostEventsSchema.safeParse(lost);
    if (!parsed.success) return problem('a lost_events record without a readable num_events_lost');
    set.lostEvents += Number(parsed.data.num_events_lost ?? 0);
    return ignored('a lost_events record (events Hubble dropped)');
  }
  const status = field(value, 'node_status');
  if (status !== undefined) {
    const parsed = nodeStatusSchema.safeParse(status);
    const change = parsed.success ? (parsed.data.state_change ?? '') : '';
    if (parsed.success && change !== 'NODE_CONNECTED')
      for (const node of parsed.data.node_names ?? [])
        if (!set.unavailableNodes.includes(node) && set.unavailableNodes.length < MAX_PROBLEMS)
          set.unavailableNodes.push(`${node} (${change || 'state unknown'})`);
    return ignored('a node_status record (not a flow)');
  }
  const wrapped = field(value, 'flow');
  if (wrapped === undefined) {
    const other = NOT_FLOWS.find((key) => field(value, key) !== undefined);
    if (other !== undefined) return ignored(`a ${other} record (not a flow)`);
    if (!FLOW_FIELDS.some((key) => field(value, key) !== undefined))
      return problem('not a Hubble flow');
  }
  const parsed = flowSchema.safeParse(wrapped ?? value);
  if (!parsed.success) return problem('not a Hubble flow');
  const flow = parsed.data;
  if (
    flow.verdict !== undefined &&
    !['FORWARDED', 'DROPPED', 'AUDIT', 'REDIRECTED', 'TRACED'].includes(flow.verdict)
  )
    return ignored(`verdict ${flow.verdict}`);
  const protocol = PROTOCOLS.find((p) => flow.l4?.[p] !== undefined);
  const l4 = protocol === undefined ? undefined : flow.l4?.[protocol];
  if (protocol === undefined || l4 === undefined)
    return ignored('no TCP, UDP or SCTP destination port (ICMP or another protocol)');
  const srcIp = canonicalAddress(flow.IP?.source ?? '');
  const dstIp = canonicalAddress(flow.IP?.destination ?? '');
  const srcPort = l4.source_port;
  const tuple =
    srcPort === undefined || srcIp === '' || dstIp === ''
      ? undefined
      : tupleKey(protocol, srcIp, srcPort, dstIp, l4.destination_port);
  const reverse =
    srcPort === undefined || srcIp === '' || dstIp === ''
      ? undefined
      : tupleKey(protocol, dstIp, l4.destination_port, srcIp, srcPort);
  let direction = directionOf(flow);
  if (direction === 'unknown' && tuple !== undefined && reverse !== undefined) {
    if (set.requests.has(reverse)) direction = 'reply';
    else if (set.requests.has(tuple)) direction = 'request';
  }
  if (direction === 'reply') return ignored('a reply');
  if (direction === 'unknown')
    return ignored(
      'direction unknown (no SYN, no is_reply or reply, no earlier request on the reverse 5-tuple; proposes nothing)',
    );
  if (tuple !== undefined && set.requests.size < MAX_REQUEST_TUPLES) set.requests.add(tuple);
  const from = hubbleEnd(flow.source, flow.IP?.source, 'source');
  const to = hubbleEnd(flow.destination, flow.IP?.destination, 'destination');
  if (typeof from === 'string') return ignored(`source is ${from}`);
  if (typeof to === 'string') return ignored(`destination is ${to}`);
  // Names only matter for an address outside the cluster's workloads.
  const names = to.kind === 'address' ? dnsNamesOf(flow.destination_names) : [];
  return {
    from,
    to,
    port: l4.destination_port,
    protocol,
    dropped: flow.verdict === 'DROPPED',
    ...(names.length > 0 ? { names } : {}),
  };
}

const csvProtocol = z
  .string()
  .transform((text) => text.trim().toUpperCase())
  .pipe(z.enum(['TCP', 'UDP', 'SCTP']));
const csvPort = z
  .string()
  .trim()
  .regex(/^\d{1,5}$/)
  .transform(Number)
  .pipe(z.number().int().min(1).max(65535));

function csvEnd(namespace: string, workload: string): FlowEnd | string {
  const ns = namespace.trim();
  const name = workload.trim();
  if (name === '') return 'an empty workload';
  if (ns === '' || ns === '-') return { kind: 'address', address: canonicalAddress(name) };
  return { kind: 'workload', namespace: ns, names: [name] };
}

/** `src_namespace,src_workload,dst_namespace,dst_workload,port,protocol`; an empty namespace makes the workload an address. */
function csvFlow(line: string): Parsed | Skip {
  const fields = line.split(',');
  if (fields.length !== 6)
    return problem(`expected 6 comma-separated fields, got ${fields.length}`);
  const [srcNs = '', srcName = '', dstNs = '', dstName = '', portText = '', protocolText = ''] =
    fields;
  const port = csvPort.safeParse(portText);
  if (!port.success) return problem(`port: "${portText.trim()}" is not a port from 1 to 65535`);
  const protocol = csvProtocol.safeParse(protocolText);
  if (!protocol.success)
    return problem(`protocol: "${protocolText.trim()}" is not TCP, UDP or SCTP`);
  const from = csvEnd(srcNs, srcName);
  const to = csvEnd(dstNs, dstName);
  if (typeof from === 'string') return problem(`source is ${from}`);
  if (typeof to === 'string') return problem(`destination is ${to}`);
  return { from, to, port: port.data, protocol: protocol.data, dropped: false };
}

const endKey = (end: FlowEnd): string =>
  end.kind === 'workload' ? `${end.namespace}/${end.names.join('|')}` : end.address;

function skip(into: FlowSet, where: string, { reason, problem: bad }: Skip): void {
  if (into.skipped.length < MAX_PROBLEMS) into.skipped.push(`${where}: ${reason}`);
  into.skippedByReason[reason] = (into.skippedByReason[reason] ?? 0) + 1;
  if (bad) into.problems++;
}

/** Reads one flow file: Hubble JSON lines, or CSV (a `.csv` name, or a first line that is not JSON). */
export function parseFlows(file: string, text: string, into: FlowSet = emptyFlowSet()): FlowSet {
  const lines = text.split(/\r?\n/);
  const firstLine = lines.find((line) => line.trim() !== '') ?? '';
  const csv = file.toLowerCase().endsWith('.csv') || !firstLine.trim().startsWith('{');
  const seen = new Map(
    into.flows.map((flow, index) => [
      `${endKey(flow.from)} ${endKey(flow.to)} ${flow.protocol}/${flow.port}`,
      index,
    ]),
  );
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || (csv && (trimmed.startsWith('#') || trimmed.startsWith('src_namespace'))))
      return;
    let record: Parsed | Skip;
    if (csv) record = csvFlow(trimmed);
    else {
      try {
        record = hubbleFlow(JSON.parse(trimmed), into);
      } catch {
        record = problem('not valid JSON');
      }
    }
    if ('reason' in record) {
      skip(into, `${file}:${index + 1}`, record);
      return;
    }
    const key = `${endKey(record.from)} ${endKey(record.to)} ${record.protocol}/${record.port}`;
    const at = seen.get(key);
    const existing = at === undefined ? undefined : into.flows[at];
    if (at !== undefined && existing !== undefined) {
      const names = mergeNames(existing.names, record.names);
      into.flows[at] = {
        ...existing,
        count: existing.count + 1,
        dropped: existing.dropped && record.dropped,
        ...(names === undefined ? {} : { names }),
      };
    } else if (into.flows.length < MAX_DISTINCT_FLOWS) {
      seen.set(key, into.flows.length);
      into.flows.push({ ...record, count: 1 });
    } else
      throw new Error(`${file}: more than ${MAX_DISTINCT_FLOWS} distinct flows; split the input`);
  });
  return into;
}
