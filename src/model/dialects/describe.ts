import { PROTOCOLS, type PortSet } from '../../semantics/ports.ts';

/** For messages: a port set as `443/TCP, 53/UDP`, or "every port". */
export function describePortSet(set: PortSet): string {
  if (set.all) return 'every port';
  const parts: string[] = [];
  for (const protocol of PROTOCOLS) {
    for (const [first, last] of set.ranges[protocol])
      parts.push(`${first === last ? first : `${first}-${last}`}/${protocol}`);
    for (const name of set.names[protocol]) parts.push(`${name}/${protocol}`);
  }
  return parts.length === 0 ? 'no port' : parts.join(', ');
}
