import type { SizeLimits } from '../config/limits.ts';

/** What NP013 counts in one policy (DESIGN "NP013 size-bound"). */
export interface ItemCounts {
  readonly rules: number;
  readonly peers: number;
  readonly ports: number;
  /** matchExpressions values and except entries. */
  readonly values: number;
}

export type CountName = keyof ItemCounts;
export const COUNT_NAMES: readonly CountName[] = ['rules', 'peers', 'ports', 'values'];

const listAt = (value: unknown, key: string): readonly unknown[] => {
  if (value === null || typeof value !== 'object') return [];
  const field = (value as Record<string, unknown>)[key];
  return Array.isArray(field) ? field : [];
};

/** Values of a selector's matchExpressions; loops only, no recursion. */
function selectorValues(selector: unknown): number {
  let count = 0;
  for (const term of listAt(selector, 'matchExpressions')) count += listAt(term, 'values').length;
  return count;
}

/**
 * Counts a NetworkPolicy's items on the parsed JSON, before any view is built: each array is
 * walked once by a loop, so a hostile size costs time in proportion and never the stack.
 */
export function countNetworkPolicy(object: unknown): ItemCounts {
  const spec =
    object !== null && typeof object === 'object'
      ? (object as Record<string, unknown>)['spec']
      : undefined;
  let rules = 0;
  let peers = 0;
  let ports = 0;
  let values = selectorValues(
    spec !== null && typeof spec === 'object'
      ? (spec as Record<string, unknown>)['podSelector']
      : undefined,
  );
  for (const [direction, peersField] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    for (const rule of listAt(spec, direction)) {
      rules += 1;
      ports += listAt(rule, 'ports').length;
      for (const peer of listAt(rule, peersField)) {
        peers += 1;
        if (peer === null || typeof peer !== 'object') continue;
        const fields = peer as Record<string, unknown>;
        values +=
          selectorValues(fields['podSelector']) + selectorValues(fields['namespaceSelector']);
        values += listAt(fields['ipBlock'], 'except').length;
      }
    }
  }
  return { rules, peers, ports, values };
}

export interface Excess {
  readonly what: CountName;
  readonly count: number;
  readonly limit: number;
}

/** Each count past its limit. */
export function excessOf(counts: ItemCounts, limits: SizeLimits): Excess[] {
  return COUNT_NAMES.filter((what) => counts[what] > limits[what]).map((what) => ({
    what,
    count: counts[what],
    limit: limits[what],
  }));
}
