import { parseCidr, type CidrRange } from '../cidr.ts';

/**
 * The addresses a set of ipBlocks covers, per family, as sorted disjoint closed intervals.
 * Judging this set rather than the blocks as written makes `0.0.0.0/1` + `128.0.0.0/1`,
 * `::ffff:0.0.0.0/96` and `0.0.0.0/0` the same thing: every IPv4 address.
 */
export interface AddressSet {
  readonly ipv4: readonly Interval[];
  readonly ipv6: readonly Interval[];
}

export interface Interval {
  readonly first: bigint;
  readonly last: bigint;
}

export type Family = 'ipv4' | 'ipv6';

export const NO_ADDRESSES: AddressSet = { ipv4: [], ipv6: [] };

function normalise(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals
    .slice()
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const merged: Interval[] = [];
  for (const next of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && next.first <= last.last + 1n) {
      if (next.last > last.last) merged[merged.length - 1] = { first: last.first, last: next.last };
    } else {
      merged.push(next);
    }
  }
  return merged;
}

/** `from` minus `holes`, both sorted and disjoint: one sweep, no recursion, no spread. */
function subtract(from: readonly Interval[], holes: readonly Interval[]): Interval[] {
  const pieces: Interval[] = [];
  let h = 0;
  for (const piece of from) {
    let first = piece.first;
    while (h < holes.length && (holes[h] as Interval).last < first) h += 1;
    let k = h;
    while (k < holes.length && first <= piece.last) {
      const hole = holes[k] as Interval;
      if (hole.first > piece.last) break;
      if (hole.first > first) pieces.push({ first, last: hole.first - 1n });
      if (hole.last + 1n > first) first = hole.last + 1n;
      k += 1;
    }
    if (first <= piece.last) pieces.push({ first, last: piece.last });
  }
  return pieces;
}

function ofRanges(ranges: readonly CidrRange[]): AddressSet {
  const pick = (family: Family): Interval[] =>
    normalise(
      ranges.filter((range) => range.family === family).map(({ first, last }) => ({ first, last })),
    );
  return { ipv4: pick('ipv4'), ipv6: pick('ipv6') };
}

/** An ipBlock: its CIDR minus its `except` entries; undefined when the CIDR does not parse. */
export function ipBlockAddresses(cidr: string, except: readonly string[]): AddressSet | undefined {
  const range = parseCidr(cidr);
  if (range === undefined) return undefined;
  const holes = except.map(parseCidr).filter((hole): hole is CidrRange => hole !== undefined);
  return difference(ofRanges([range]), ofRanges(holes));
}

export function rangesAddresses(ranges: readonly CidrRange[]): AddressSet {
  return ofRanges(ranges);
}

export function union(...sets: readonly AddressSet[]): AddressSet {
  return unionAll(sets);
}

/** The union of any number of sets; takes an array, so it never spreads a long list into arguments. */
export function unionAll(sets: readonly AddressSet[]): AddressSet {
  const ipv4: Interval[] = [];
  const ipv6: Interval[] = [];
  for (const set of sets) {
    for (const interval of set.ipv4) ipv4.push(interval);
    for (const interval of set.ipv6) ipv6.push(interval);
  }
  return { ipv4: normalise(ipv4), ipv6: normalise(ipv6) };
}

/** How many addresses of a family the set holds. */
export function size(set: AddressSet, family: Family): bigint {
  let total = 0n;
  for (const interval of set[family]) total += interval.last - interval.first + 1n;
  return total;
}

export function difference(set: AddressSet, minus: AddressSet): AddressSet {
  return { ipv4: subtract(set.ipv4, minus.ipv4), ipv6: subtract(set.ipv6, minus.ipv6) };
}

export function isEmpty(set: AddressSet): boolean {
  return set.ipv4.length === 0 && set.ipv6.length === 0;
}

export function isSubset(inner: AddressSet, outer: AddressSet): boolean {
  return isEmpty(difference(inner, outer));
}

export function intersection(a: AddressSet, b: AddressSet): AddressSet {
  return difference(a, difference(a, b));
}

/** Whether the set holds every address of one block (a pod IP, an external address): a binary search. */
export function holdsRange(set: AddressSet, range: CidrRange): boolean {
  const intervals = set[range.family];
  let low = 0;
  let high = intervals.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const interval = intervals[middle] as Interval;
    if (interval.last < range.first) low = middle + 1;
    else if (interval.first > range.first) high = middle - 1;
    else return range.last <= interval.last;
  }
  return false;
}
