import ipaddr from 'ipaddr.js';
import { parseCidr, type CidrRange } from '../cidr.ts';
import {
  difference,
  intersection,
  rangesAddresses,
  size,
  unionAll,
  type AddressSet,
} from '../semantics/addresses.ts';

/**
 * The public address space: what "the internet" means when a rule asks whether a set opens it.
 *
 * Copied from the IANA IPv4 and IPv6 Special-Purpose Address Registries as published on
 * {@link REGISTRY_DATE}: every entry not marked globally reachable, plus multicast and the reserved
 * 240/4, is taken out. IPv6 public space is 2000::/3 minus the registry's non-global entries inside
 * it. IPv4-mapped, NAT64 and 6to4 prefixes reach IPv4 addresses and are counted as those.
 */
export const REGISTRY_DATE = '2025-10-01';

const NOT_PUBLIC_IPV4 = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8', // private-use (RFC 1918)
  '100.64.0.0/10', // shared address space (carrier-grade NAT)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local
  '172.16.0.0/12', // private-use (RFC 1918)
  '192.0.0.0/24', // IETF protocol assignments
  '192.0.2.0/24', // documentation (TEST-NET-1)
  '192.168.0.0/16', // private-use (RFC 1918)
  '198.18.0.0/15', // benchmarking
  '198.51.100.0/24', // documentation (TEST-NET-2)
  '203.0.113.0/24', // documentation (TEST-NET-3)
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and the limited broadcast address
];

const IPV6_GLOBAL_UNICAST = '2000::/3';
const NOT_PUBLIC_IPV6 = [
  '2001::/32', // TEREDO (not globally reachable as such)
  '2001:2::/48', // benchmarking
  '2001:10::/28', // deprecated ORCHID
  '2001:db8::/32', // documentation
  '3fff::/20', // documentation (RFC 9637)
  '5f00::/16', // segment routing SIDs (RFC 9602)
];

/**
 * IPv6 prefixes whose addresses carry an IPv4 address, and where its bits are (RFC 4291 mapped,
 * RFC 6052 NAT64, RFC 8215 local-use NAT64, RFC 3056 6to4). Each segment is [first bit, length].
 */
const TRANSLATIONS: readonly { readonly prefix: string; readonly segments: [number, number][] }[] =
  [
    { prefix: '::ffff:0:0/96', segments: [[96, 32]] },
    { prefix: '64:ff9b::/96', segments: [[96, 32]] },
    {
      prefix: '64:ff9b:1::/48',
      segments: [
        [48, 16],
        [72, 16],
      ],
    },
    { prefix: '2002::/16', segments: [[16, 32]] },
  ];

const block = (text: string): CidrRange => {
  const range = parseCidr(text);
  if (range === undefined) throw new Error(`public-space: ${text} does not parse`);
  return range;
};

/** parseCidr turns `::ffff:0:0/96` into 0.0.0.0/0; the translation prefixes need the IPv6 block itself. */
function ipv6Block(text: string): CidrRange {
  const [address, bits] = ipaddr.IPv6.parseCIDR(text);
  let value = 0n;
  for (const byte of address.toByteArray()) value = (value << 8n) | BigInt(byte);
  const hostBits = BigInt(128 - bits);
  const first = (value >> hostBits) << hostBits;
  return { family: 'ipv6', prefix: bits, first, last: first + (1n << hostBits) - 1n };
}

const IPV4_PUBLIC = difference(
  rangesAddresses([block('0.0.0.0/0')]),
  rangesAddresses(NOT_PUBLIC_IPV4.map(block)),
);
const IPV6_PUBLIC_RAW = difference(
  rangesAddresses([block(IPV6_GLOBAL_UNICAST)]),
  rangesAddresses([...NOT_PUBLIC_IPV6.map(block), ipv6Block('2002::/16')]),
);

/** Public IPv4 and IPv6 space (6to4 left out of IPv6: it counts as the IPv4 it reaches). */
export const PUBLIC_SPACE: AddressSet = { ipv4: IPV4_PUBLIC.ipv4, ipv6: IPV6_PUBLIC_RAW.ipv6 };

const TRANSLATION_BLOCKS = TRANSLATIONS.map((entry) => ({
  range: ipv6Block(entry.prefix),
  segments: entry.segments,
}));

/** A closed interval as the fewest CIDR blocks (at most 2 × bits of them). */
function* blocksOf(first: bigint, last: bigint, bits: number): Generator<[bigint, number]> {
  let next = first;
  while (next <= last) {
    let size = 0;
    while (size < bits && next % (1n << BigInt(size + 1)) === 0n) {
      if (next + (1n << BigInt(size + 1)) - 1n > last) break;
      size += 1;
    }
    yield [next, bits - size];
    next += 1n << BigInt(size);
  }
}

/** The IPv4 addresses an IPv6 set reaches through mapped, NAT64 and 6to4 prefixes. */
export function translatedIpv4(set: AddressSet): AddressSet {
  const ranges: CidrRange[] = [];
  for (const translation of TRANSLATION_BLOCKS) {
    const inside = intersection({ ipv4: [], ipv6: set.ipv6 }, rangesAddresses([translation.range]));
    for (const interval of inside.ipv6) {
      for (const [start, prefix] of blocksOf(interval.first, interval.last, 128)) {
        let value = 0n;
        let fixed = 0;
        for (const [from, length] of translation.segments) {
          const known = Math.max(0, Math.min(length, prefix - from));
          const bits = (start >> BigInt(128 - from - length)) & ((1n << BigInt(length)) - 1n);
          value = (value << BigInt(length)) | bits;
          fixed += known;
        }
        const hostBits = BigInt(32 - fixed);
        const first = (value >> hostBits) << hostBits;
        ranges.push({ family: 'ipv4', prefix: fixed, first, last: first + (1n << hostBits) - 1n });
      }
    }
  }
  return rangesAddresses(ranges);
}

/** The public addresses a set covers, per family; `notPublic` (privateCIDRs) taken out. */
export function publicPart(set: AddressSet, notPublic: AddressSet): AddressSet {
  const ipv4 = unionAll([{ ipv4: set.ipv4, ipv6: [] }, translatedIpv4(set)]);
  return difference(intersection({ ipv4: ipv4.ipv4, ipv6: set.ipv6 }, PUBLIC_SPACE), notPublic);
}

const PUBLIC_SIZE = { ipv4: size(PUBLIC_SPACE, 'ipv4'), ipv6: size(PUBLIC_SPACE, 'ipv6') };

/**
 * Whether a set opens the internet: the public space it covers exceeds 1/256 of its family's
 * public space (more than a /8's worth of IPv4, a /11's worth of IPv6). A provider's published
 * ranges do not; `0.0.0.0/0 except [RFC 1918]`, `0.0.0.0/2` and `::/0 except [::1/128]` do.
 */
export function opensInternet(set: AddressSet, notPublic: AddressSet = EMPTY): boolean {
  const reached = publicPart(set, notPublic);
  return (
    size(reached, 'ipv4') * 256n > PUBLIC_SIZE.ipv4 ||
    size(reached, 'ipv6') * 256n > PUBLIC_SIZE.ipv6
  );
}

const EMPTY: AddressSet = { ipv4: [], ipv6: [] };

function formatBlock(family: 'ipv4' | 'ipv6', first: bigint, prefix: number): string {
  const bytes: number[] = [];
  const count = family === 'ipv4' ? 4 : 16;
  for (let index = count - 1; index >= 0; index -= 1)
    bytes.push(Number((first >> BigInt(index * 8)) & 0xffn));
  const address = family === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6;
  return `${new address(bytes).toString()}/${prefix}`;
}

/** A family's intervals as CIDR blocks, written; stops after `cap` blocks and says how many more. */
function blocksText(family: 'ipv4' | 'ipv6', set: AddressSet, cap: number): string[] {
  const bits = family === 'ipv4' ? 32 : 128;
  const out: string[] = [];
  let more = 0;
  for (const interval of set[family]) {
    for (const [first, prefix] of blocksOf(interval.first, interval.last, bits)) {
      if (out.length < cap) out.push(formatBlock(family, first, prefix));
      else more += 1;
    }
  }
  if (more > 0) out.push(`${more} more`);
  return out;
}

/**
 * For messages: a set that opens the internet, as "the internet" or "the internet (except
 * 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)": the holes are what the set leaves out of its
 * family, wherever they are.
 */
export function describeInternet(set: AddressSet, notPublic: AddressSet = EMPTY): string {
  const reached = publicPart(set, notPublic);
  const families = (['ipv4', 'ipv6'] as const).filter(
    (family) => size(reached, family) * 256n > PUBLIC_SIZE[family],
  );
  // The holes inside the span the set reaches: `0.0.0.0/0 except [10.0.0.0/8]` names 10.0.0.0/8.
  const holes = families.flatMap((family) => {
    const intervals = set[family];
    const first = intervals[0];
    const last = intervals.at(-1);
    if (first === undefined || last === undefined) return [];
    const span =
      family === 'ipv4'
        ? { ipv4: [{ first: first.first, last: last.last }], ipv6: [] }
        : { ipv4: [], ipv6: [{ first: first.first, last: last.last }] };
    return blocksText(family, difference(span, set), 4);
  });
  return holes.length === 0 ? 'the internet' : `the internet (except ${holes.join(', ')})`;
}
