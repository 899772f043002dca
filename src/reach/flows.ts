import { z } from 'zod';
import { field } from '../object-access.ts';
import { PROTOCOLS, type Protocol } from './model.ts';

/** One end of an observed flow: a workload (with the names it may go by) or an address. */
export type FlowEnd =
  | { readonly kind: 'workload'; readonly namespace: string; readonly names: readonly string[] }
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
}

export interface FlowSet {
  readonly flows: ObservedFlow[];
  /** Records skipped, with why (a reply, a host endpoint, a malformed line). */
  readonly skipped: string[];
}

/** Bounds what one flow file can make us hold: distinct flows and remembered problems. */
const MAX_DISTINCT_FLOWS = 100_000;
const MAX_PROBLEMS = 50;

// `hubble observe -o json`: one object per line, the Flow under `flow` (older CLIs print it bare).
const endpointSchema = z.looseObject({
  namespace: z.string().optional(),
  pod_name: z.string().optional(),
  labels: z.array(z.string()).optional(),
  workloads: z.array(z.looseObject({ name: z.string(), kind: z.string().optional() })).optional(),
});
const l4PortsSchema = z.looseObject({ destination_port: z.number().int().min(1).max(65535) });
const flowSchema = z.looseObject({
  verdict: z.string().optional(),
  is_reply: z.boolean().optional(),
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
});

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

function hubbleEnd(
  endpoint: z.infer<typeof endpointSchema> | undefined,
  address: string | undefined,
): FlowEnd | string {
  const labels = endpoint?.labels ?? [];
  if (endpoint?.namespace !== undefined && endpoint.namespace !== '') {
    const names = podNames(endpoint);
    if (names.length === 0) return 'an endpoint with a namespace but no pod or workload name';
    return { kind: 'workload', namespace: endpoint.namespace, names };
  }
  const reserved = labels.find(
    (label) => label.startsWith('reserved:') && label !== 'reserved:world',
  );
  if (reserved !== undefined) return `a ${reserved} endpoint (NetworkPolicy does not govern it)`;
  if (address === undefined || address === '') return 'an endpoint with no namespace and no IP';
  return { kind: 'address', address };
}

function hubbleFlow(value: unknown): Omit<ObservedFlow, 'count'> | string {
  const wrapped = field(value, 'flow');
  const parsed = flowSchema.safeParse(wrapped ?? value);
  if (!parsed.success) return 'not a Hubble flow';
  const flow = parsed.data;
  if (flow.is_reply === true) return 'a reply';
  if (
    flow.verdict !== undefined &&
    !['FORWARDED', 'DROPPED', 'AUDIT', 'REDIRECTED', 'TRACED'].includes(flow.verdict)
  )
    return `verdict ${flow.verdict}`;
  const protocol = PROTOCOLS.find((p) => flow.l4?.[p] !== undefined);
  const port = protocol === undefined ? undefined : flow.l4?.[protocol]?.destination_port;
  if (protocol === undefined || port === undefined)
    return 'no TCP, UDP or SCTP destination port (ICMP?)';
  const from = hubbleEnd(flow.source, flow.IP?.source);
  const to = hubbleEnd(flow.destination, flow.IP?.destination);
  if (typeof from === 'string') return `source is ${from}`;
  if (typeof to === 'string') return `destination is ${to}`;
  return { from, to, port, protocol, dropped: flow.verdict === 'DROPPED' };
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
  if (ns === '' || ns === '-') return { kind: 'address', address: name };
  return { kind: 'workload', namespace: ns, names: [name] };
}

/** `src_namespace,src_workload,dst_namespace,dst_workload,port,protocol`; an empty namespace makes the workload an address. */
function csvFlow(line: string): Omit<ObservedFlow, 'count'> | string {
  const fields = line.split(',');
  if (fields.length !== 6) return `expected 6 comma-separated fields, got ${fields.length}`;
  const [srcNs = '', srcName = '', dstNs = '', dstName = '', portText = '', protocolText = ''] =
    fields;
  const port = csvPort.safeParse(portText);
  if (!port.success) return `port: "${portText.trim()}" is not a port from 1 to 65535`;
  const protocol = csvProtocol.safeParse(protocolText);
  if (!protocol.success) return `protocol: "${protocolText.trim()}" is not TCP, UDP or SCTP`;
  const from = csvEnd(srcNs, srcName);
  const to = csvEnd(dstNs, dstName);
  if (typeof from === 'string') return `source is ${from}`;
  if (typeof to === 'string') return `destination is ${to}`;
  return { from, to, port: port.data, protocol: protocol.data, dropped: false };
}

const endKey = (end: FlowEnd): string =>
  end.kind === 'address' ? end.address : `${end.namespace}/${end.names.join('|')}`;

/** Reads one flow file: Hubble JSON lines, or CSV (a `.csv` name, or a first line that is not JSON). */
export function parseFlows(
  file: string,
  text: string,
  into: FlowSet = { flows: [], skipped: [] },
): FlowSet {
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
    let record: Omit<ObservedFlow, 'count'> | string;
    if (csv) record = csvFlow(trimmed);
    else {
      try {
        record = hubbleFlow(JSON.parse(trimmed));
      } catch {
        record = 'not valid JSON';
      }
    }
    if (typeof record === 'string') {
      if (into.skipped.length < MAX_PROBLEMS) into.skipped.push(`${file}:${index + 1}: ${record}`);
      return;
    }
    const key = `${endKey(record.from)} ${endKey(record.to)} ${record.protocol}/${record.port}`;
    const at = seen.get(key);
    const existing = at === undefined ? undefined : into.flows[at];
    if (at !== undefined && existing !== undefined)
      into.flows[at] = {
        ...existing,
        count: existing.count + 1,
        dropped: existing.dropped && record.dropped,
      };
    else if (into.flows.length < MAX_DISTINCT_FLOWS) {
      seen.set(key, into.flows.length);
      into.flows.push({ ...record, count: 1 });
    } else
      throw new Error(`${file}: more than ${MAX_DISTINCT_FLOWS} distinct flows; split the input`);
  });
  return into;
}
