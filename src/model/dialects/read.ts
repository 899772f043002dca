/** Reading a dialect's hostile fields into the meaning's parts: selectors, ports, address blocks. */
import { arrayField, asRecord, field } from '../../object-access.ts';
import { ipBlockAddresses, NO_ADDRESSES, type AddressSet } from '../../semantics/addresses.ts';
import { portSet, PROTOCOLS, type PolicyPort, type Protocol } from '../../semantics/ports.ts';
import type { AddressPeer, PortSet } from '../policy-meaning.ts';

export interface Requirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values: readonly string[];
}

const OPERATORS: readonly string[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/**
 * A Kubernetes label selector (`matchLabels`, `matchExpressions`) as requirements; a term with an
 * unknown operator is dropped, which only widens what the selector is judged to select.
 */
export function requirementsOf(selector: unknown): Requirement[] {
  const requirements: Requirement[] = [];
  const labels = asRecord(field(selector, 'matchLabels')) ?? {};
  for (const key of Object.keys(labels)) {
    const value = labels[key];
    if (typeof value === 'string') requirements.push({ key, operator: 'In', values: [value] });
  }
  for (const term of arrayField(selector, 'matchExpressions')) {
    const key = field(term, 'key');
    const operator = field(term, 'operator');
    if (typeof key !== 'string' || typeof operator !== 'string' || !OPERATORS.includes(operator))
      continue;
    requirements.push({
      key,
      operator: operator as Requirement['operator'],
      values: strings(field(term, 'values')),
    });
  }
  return requirements;
}

/** Requirements back into the selector shape the label-set normaliser reads. */
export function selectorOf(requirements: readonly Requirement[]): {
  matchExpressions: Requirement[];
} {
  return { matchExpressions: [...requirements] };
}

export { strings };

/** Every address of both families, as an address peer (an entity, a Service, `*`). */
export function internetPeer(path: string, text: string): AddressPeer {
  const addresses = ipBlockAddresses('0.0.0.0/0', []) ?? NO_ADDRESSES;
  const v6 = ipBlockAddresses('::/0', []) ?? NO_ADDRESSES;
  return { kind: 'addresses', path, addresses: { ipv4: addresses.ipv4, ipv6: v6.ipv6 }, text };
}

/** One family's whole space: `world-ipv4`, `world-ipv6`. */
export function familyPeer(path: string, family: 'ipv4' | 'ipv6', text: string): AddressPeer {
  const all = internetPeer(path, text).addresses;
  const addresses: AddressSet =
    family === 'ipv4' ? { ipv4: all.ipv4, ipv6: [] } : { ipv4: [], ipv6: all.ipv6 };
  return { kind: 'addresses', path, addresses, text };
}

/** A CIDR with its holes as an address peer; an unparsable CIDR covers nothing it can name. */
export function blockPeer(path: string, cidr: string, except: readonly string[]): AddressPeer {
  return {
    kind: 'addresses',
    path,
    addresses: ipBlockAddresses(cidr, except) ?? NO_ADDRESSES,
    text: except.length === 0 ? cidr : `${cidr} except ${except.join(', ')}`,
  };
}

/** Protocols a written protocol names: ANY (or none) is every protocol; ICMP and unknown, none. */
export function protocolsOf(written: unknown): readonly Protocol[] {
  if (written === undefined || written === null || written === '' || written === 'ANY')
    return PROTOCOLS;
  const upper = typeof written === 'string' ? written.toUpperCase() : '';
  return (PROTOCOLS as readonly string[]).includes(upper) ? [upper as Protocol] : [];
}

/**
 * A written port: a number or numeric string (0 = every port), a name, or a range `a:b` / `a-b`
 * (Calico). Undefined means every port.
 */
export function portEntries(
  protocols: readonly Protocol[],
  port: unknown,
  endPort: unknown,
): PolicyPort[] {
  let first: number | string | undefined;
  let last: number | undefined = typeof endPort === 'number' ? endPort : undefined;
  if (typeof port === 'number') first = port;
  else if (typeof port === 'string' && port !== '') {
    const range = /^(\d+)\s*[:-]\s*(\d+)$/.exec(port);
    if (range !== null) {
      first = Number(range[1]);
      last = Number(range[2]);
    } else first = /^\d+$/.test(port) ? Number(port) : port;
  }
  if (first === 0) first = undefined;
  return protocols.map((protocol) => ({ protocol, port: first, endPort: last }));
}

/** A port list into a port set; an empty list of entries means every port. */
export const portsOf = (entries: readonly PolicyPort[]): PortSet => portSet(entries);
