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

interface Interval {
  readonly first: bigint;
  readonly last: bigint;
}

type Family = 'ipv4' | 'ipv6';
const FAMILIES: readonly Family[] = ['ipv4', 'ipv6'];
const LAST: Readonly<Record<Family, bigint>> = { ipv4: (1n << 32n) - 1n, ipv6: (1n << 128n) - 1n };

export const NO_ADDRESSES: AddressSet = { ipv4: [], ipv6: [] };

function normalise(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) =>
    a.first < b.first ? -1 : a.first > b.first ? 1 : 0,
  );
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

function subtract(from: readonly Interval[], holes: readonly Interval[]): Interval[] {
  let pieces = [...from];
  for (const hole of holes) {
    pieces = pieces.flatMap((piece) => {
      if (hole.last < piece.first || hole.first > piece.last) return [piece];
      const left = hole.first > piece.first ? [{ first: piece.first, last: hole.first - 1n }] : [];
      const right = hole.last < piece.last ? [{ first: hole.last + 1n, last: piece.last }] : [];
      return [...left, ...right];
    });
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
  return {
    ipv4: normalise(sets.flatMap((set) => set.ipv4)),
    ipv6: normalise(sets.flatMap((set) => set.ipv6)),
  };
}

export function difference(set: AddressSet, minus: AddressSet): AddressSet {
  return { ipv4: subtract(set.ipv4, minus.ipv4), ipv6: subtract(set.ipv6, minus.ipv6) };
}

export function isEmpty(set: AddressSet): boolean {
  return set.ipv4.length === 0 && set.ipv6.length === 0;
}

/** Every address of a family: the internet, however it is written. */
export function coversInternet(set: AddressSet): boolean {
  return FAMILIES.some((family) => {
    const [only] = set[family];
    return (
      set[family].length === 1 &&
      only !== undefined &&
      only.first === 0n &&
      only.last === LAST[family]
    );
  });
}

export function isSubset(inner: AddressSet, outer: AddressSet): boolean {
  return isEmpty(difference(inner, outer));
}

export function intersection(a: AddressSet, b: AddressSet): AddressSet {
  return difference(a, difference(a, b));
}
