export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** One entry of a rule's `ports`, parsed: a missing port opens every port of the protocol. */
export interface PolicyPort {
  readonly protocol: Protocol;
  readonly port: number | string | undefined;
  readonly endPort: number | undefined;
}

export const FIRST_PORT = 1;
export const LAST_PORT = 65535;
const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];

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
  for (const [first, last] of [...ranges].sort((a, b) => a[0] - b[0])) {
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

/** Whether the set opens every port of some protocol: as good as writing no `ports` at all. */
export function opensEveryPort(set: PortSet): boolean {
  if (set.all) return true;
  return PROTOCOLS.some((protocol) => {
    const [only] = set.ranges[protocol];
    return (
      set.ranges[protocol].length === 1 &&
      only !== undefined &&
      only[0] <= FIRST_PORT &&
      only[1] >= LAST_PORT
    );
  });
}

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
