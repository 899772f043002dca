import type { ContainerPort, PortSpec, Protocol } from './model.ts';

/**
 * Whether one port entry admits `port`/`protocol` on a destination. A named port means whatever
 * the destination's containers name it (with that protocol); a destination that names no such
 * port is not matched, as in Kubernetes. `endPort` widens a numeric port into a range.
 */
export function portEntryAdmits(
  entry: PortSpec,
  port: number,
  protocol: Protocol,
  destinationPorts: readonly ContainerPort[],
): boolean {
  if (entry.protocol !== protocol) return false;
  if (entry.port === undefined) return true;
  if (typeof entry.port === 'string') {
    return destinationPorts.some(
      (declared) =>
        declared.name === entry.port && declared.port === port && declared.protocol === protocol,
    );
  }
  const last = entry.endPort ?? entry.port;
  return port >= entry.port && port <= last;
}

/** A rule's ports: undefined (none written) admits every port and protocol. */
export function portsAdmit(
  entries: readonly PortSpec[] | undefined,
  port: number,
  protocol: Protocol,
  destinationPorts: readonly ContainerPort[],
): boolean {
  return (
    entries === undefined ||
    entries.some((entry) => portEntryAdmits(entry, port, protocol, destinationPorts))
  );
}
