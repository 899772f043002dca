import ipaddr from 'ipaddr.js';

/** An address block as a closed interval of integers, so containment and overlap are comparisons. */
export interface CidrRange {
  readonly family: 'ipv4' | 'ipv6';
  readonly prefix: number;
  readonly first: bigint;
  readonly last: bigint;
}

const BITS = { ipv4: 32, ipv6: 128 } as const;

function toBigInt(bytes: readonly number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/**
 * Parses `10.0.0.0/8` or `2001:db8::/32` as Kubernetes writes them. ipaddr.js alone also
 * accepts `10/8` and octal or hex parts, which the API server refuses, so IPv4 must have four
 * decimal parts. Host bits are masked off (`10.1.2.3/8` is 10.0.0.0/8).
 */
export function parseCidr(text: string): CidrRange | undefined {
  // The same few blocks recur in every review (and NP001, NP004, NP005 each read them): parse once.
  if (parsedBlocks.has(text)) return parsedBlocks.get(text);
  const range = parseCidrText(text);
  if (parsedBlocks.size >= PARSED_BLOCKS_MAX) parsedBlocks.clear();
  parsedBlocks.set(text, range);
  return range;
}

const PARSED_BLOCKS_MAX = 4096;
const parsedBlocks = new Map<string, CidrRange | undefined>();

function parseCidrText(text: string): CidrRange | undefined {
  // Parse with the family's own parser: ipaddr.parseCIDR tries IPv6 first and throws for every IPv4 block (~10x slower).
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  if (ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) parsed = ipaddr.IPv4.parseCIDR(text);
  else if (text.includes(':') && ipaddr.IPv6.isValidCIDR(text))
    parsed = ipaddr.IPv6.parseCIDR(text);
  else return undefined;
  let [address, prefix] = parsed;
  // `::ffff:10.0.0.0/104` is 10.0.0.0/8 on the wire: judge the IPv4 addresses it reaches.
  if (address instanceof ipaddr.IPv6 && prefix >= 96 && address.isIPv4MappedAddress()) {
    [address, prefix] = [address.toIPv4Address(), prefix - 96];
  }
  const family = address.kind();
  const hostBits = BigInt(BITS[family] - prefix);
  const first = (toBigInt(address.toByteArray()) >> hostBits) << hostBits;
  return { family, prefix, first, last: first + (1n << hostBits) - 1n };
}

/** 0.0.0.0/0 and ::/0: every address of the family. */
export function isWorld(range: CidrRange): boolean {
  return range.prefix === 0;
}

export function contains(outer: CidrRange, inner: CidrRange): boolean {
  return outer.family === inner.family && outer.first <= inner.first && inner.last <= outer.last;
}

/** Two CIDR blocks overlap only when one contains the other; the overlap is the smaller one. */
export function intersection(a: CidrRange, b: CidrRange): CidrRange | undefined {
  if (contains(a, b)) return b;
  if (contains(b, a)) return a;
  return undefined;
}

/** Whether the blocks in `cover` leave no address of `range` uncovered. */
export function coveredBy(range: CidrRange, cover: readonly CidrRange[]): boolean {
  const pieces = cover
    .map((block) => intersection(range, block))
    .filter((block): block is CidrRange => block !== undefined)
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  let next = range.first;
  for (const piece of pieces) {
    if (piece.first > next) return false;
    if (piece.last >= next) next = piece.last + 1n;
    if (next > range.last) return true;
  }
  return next > range.last;
}

/** The part of `range` in `other` that `except` does not carve out, if any. */
export function overlapsOutside(
  range: CidrRange,
  other: CidrRange,
  except: readonly CidrRange[],
): boolean {
  const common = intersection(range, other);
  return common !== undefined && !coveredBy(common, except);
}

/** Parses a list of blocks that is known to be valid (checked when the policy was loaded). */
export function parseCidrList(texts: readonly string[]): { text: string; range: CidrRange }[] {
  return texts.flatMap((text) => {
    const range = parseCidr(text);
    return range === undefined ? [] : [{ text, range }];
  });
}
