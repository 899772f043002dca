export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** One entry of a rule's `ports`, parsed: a missing port opens every port of the protocol. */
export interface PolicyPort {
  readonly protocol: Protocol;
  readonly port: number | string | undefined;
  readonly endPort: number | undefined;
}

export const FIRST_PORT = 1;
export const LAST_PORT = 65535;
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

/**
 * The ports a rule's `ports` list opens, per protocol: numeric ranges, plus named ports (a named
 * port is whatever number the destination pod gives that name, so it is kept as a name).
 * An empty list opens every port of every protocol.
 */
export interface PortSet {
  readonly all: boolean;
  readonly ranges: Readonly<Record<Protocol, readonly (readonly [number, number])[]>>;
  readonly names: Readonly<Record<Protocol, ReadonlySet<string>>>;
}

function merge(ranges: readonly (readonly [number, number])[]): [number, number][] {
  const merged: [number, number][] = [];
  for (const [first, last] of ranges.slice().sort((a, b) => a[0] - b[0])) {
    const previous = merged.at(-1);
    if (previous !== undefined && first <= previous[1] + 1)
      previous[1] = Math.max(previous[1], last);
    else merged.push([first, last]);
  }
  return merged;
}

export function portSet(ports: readonly PolicyPort[]): PortSet {
  const ranges: Record<Protocol, [number, number][]> = { TCP: [], UDP: [], SCTP: [] };
  const names: Record<Protocol, Set<string>> = { TCP: new Set(), UDP: new Set(), SCTP: new Set() };
  for (const entry of ports) {
    // A protocol with no port (or `port: null`) opens every port of that protocol.
    if (entry.port === undefined) ranges[entry.protocol].push([FIRST_PORT, LAST_PORT]);
    else if (typeof entry.port === 'string') names[entry.protocol].add(entry.port);
    else
      ranges[entry.protocol].push([entry.port, Math.max(entry.port, entry.endPort ?? entry.port)]);
  }
  for (const protocol of PROTOCOLS) ranges[protocol] = merge(ranges[protocol]);
  return { all: ports.length === 0, ranges, names };
}

/**
 * Fewer closed ports than this, and a protocol counts as every port (DESIGN "Every port"): leaving
 * port 22 alone closed, or `port: 2, endPort: 65535`, is no real restriction.
 */
export const EVERY_PORT_CLOSED_BELOW = 1024;

/** How many numbered ports of a protocol the set leaves closed (named ports count as closed). */
export function closedPorts(set: PortSet, protocol: Protocol): number {
  if (set.all) return 0;
  let open = 0;
  for (const [first, last] of set.ranges[protocol]) {
    const from = Math.max(first, FIRST_PORT);
    const to = Math.min(last, LAST_PORT);
    if (to >= from) open += to - from + 1;
  }
  return LAST_PORT - FIRST_PORT + 1 - open;
}

/** The protocols the set opens "every port" of: fewer than 1,024 of their ports left closed. */
export function everyPortProtocols(set: PortSet): Protocol[] {
  return PROTOCOLS.filter((protocol) => closedPorts(set, protocol) < EVERY_PORT_CLOSED_BELOW);
}

/** Whether the set opens every port of some protocol: as good as writing no `ports` at all. */
export function opensEveryPort(set: PortSet): boolean {
  return everyPortProtocols(set).length > 0;
}

/** The ports several rules open together, for the same peers. */
export function unionPortSets(sets: readonly PortSet[]): PortSet {
  if (sets.some((set) => set.all))
    return { all: true, ranges: { TCP: [], UDP: [], SCTP: [] }, names: EMPTY_NAMES };
  const ranges: Record<Protocol, [number, number][]> = { TCP: [], UDP: [], SCTP: [] };
  const names: Record<Protocol, Set<string>> = { TCP: new Set(), UDP: new Set(), SCTP: new Set() };
  for (const set of sets)
    for (const protocol of PROTOCOLS) {
      for (const range of set.ranges[protocol]) ranges[protocol].push([range[0], range[1]]);
      for (const name of set.names[protocol]) names[protocol].add(name);
    }
  for (const protocol of PROTOCOLS) ranges[protocol] = merge(ranges[protocol]);
  return { all: false, ranges, names };
}

const EMPTY_NAMES: Readonly<Record<Protocol, ReadonlySet<string>>> = {
  TCP: new Set(),
  UDP: new Set(),
  SCTP: new Set(),
};

/** Whether `port` of `protocol` is open; a named port counts only when it is one of `names`. */
export function portOpen(
  set: PortSet,
  protocol: Protocol,
  port: number,
  names: readonly string[] = [],
): boolean {
  if (set.all) return true;
  if (set.ranges[protocol].some(([first, last]) => first <= port && port <= last)) return true;
  return names.some((name) => set.names[protocol].has(name));
}

/** Whether `narrow` opens nothing `wide` does not (named ports compared by name). */
export function portSetNoBroader(narrow: PortSet, wide: PortSet): boolean {
  if (wide.all) return true;
  if (narrow.all) return false;
  return PROTOCOLS.every(
    (protocol) =>
      narrow.ranges[protocol].every(([first, last]) =>
        wide.ranges[protocol].some(([from, to]) => from <= first && last <= to),
      ) && [...narrow.names[protocol]].every((name) => wide.names[protocol].has(name)),
  );
}
