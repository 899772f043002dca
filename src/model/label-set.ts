import type { Labels } from '../vocabulary.ts';
import type { LabelRequirement, LabelSet } from './policy-meaning.ts';

/** What a label selector is made of, parsed (the NP view's Selector, a waiver's selector). */
export interface SelectorLike {
  readonly matchLabels?: Readonly<Record<string, string>> | undefined;
  readonly matchExpressions?:
    | readonly {
        readonly key: string;
        readonly operator: LabelRequirement['operator'];
        readonly values?: readonly string[] | undefined;
      }[]
    | undefined;
}

export const EVERY_LABEL_SET: LabelSet = { requirements: [] };

const sortedUnique = (values: readonly string[]): string[] =>
  [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

const order = (a: LabelRequirement, b: LabelRequirement): number =>
  a.key < b.key
    ? -1
    : a.key > b.key
      ? 1
      : a.operator < b.operator
        ? -1
        : a.operator > b.operator
          ? 1
          : a.values.join('\u0000') < b.values.join('\u0000')
            ? -1
            : 1;

/**
 * A selector in normal form: `matchLabels` as `In [value]`, values sorted and unique, several
 * `In` on one key intersected, duplicates dropped, requirements sorted. Two spellings of one
 * selector give equal label sets.
 */
export function labelSetOf(selector: SelectorLike): LabelSet {
  const inByKey = new Map<string, string[]>();
  const others: LabelRequirement[] = [];
  const narrow = (key: string, values: readonly string[]): void => {
    const before = inByKey.get(key);
    inByKey.set(
      key,
      before === undefined ? sortedUnique(values) : before.filter((v) => values.includes(v)),
    );
  };
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) narrow(key, [value]);
  for (const term of selector.matchExpressions ?? []) {
    if (term.operator === 'In') narrow(term.key, term.values ?? []);
    else
      others.push({
        key: term.key,
        operator: term.operator,
        values: term.operator === 'NotIn' ? sortedUnique(term.values ?? []) : [],
      });
  }
  const requirements: LabelRequirement[] = [];
  for (const [key, values] of inByKey) requirements.push({ key, operator: 'In', values });
  const seen = new Set<string>();
  for (const requirement of others) {
    // Exists is implied by In on the same key.
    if (requirement.operator === 'Exists' && inByKey.has(requirement.key)) continue;
    const id = JSON.stringify(requirement);
    if (seen.has(id)) continue;
    seen.add(id);
    requirements.push(requirement);
  }
  return { requirements: requirements.sort(order) };
}

/** Whether an object with these labels is in the set. */
export function labelSetMatches(set: LabelSet, labels: Labels): boolean {
  for (const requirement of set.requirements) {
    const present = Object.hasOwn(labels, requirement.key);
    const value = present ? labels[requirement.key] : undefined;
    switch (requirement.operator) {
      case 'In':
        if (value === undefined || !requirement.values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && requirement.values.includes(value)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
    }
  }
  return true;
}

/** One requirement implies another: every object meeting `narrow` meets `wide`. */
function implies(narrow: LabelRequirement, wide: LabelRequirement): boolean {
  if (narrow.key !== wide.key) return false;
  switch (wide.operator) {
    case 'Exists':
      return narrow.operator === 'In' || narrow.operator === 'Exists';
    case 'In':
      return narrow.operator === 'In' && narrow.values.every((v) => wide.values.includes(v));
    case 'NotIn':
      return (
        (narrow.operator === 'In' && narrow.values.every((v) => !wide.values.includes(v))) ||
        (narrow.operator === 'NotIn' && wide.values.every((v) => narrow.values.includes(v))) ||
        narrow.operator === 'DoesNotExist'
      );
    case 'DoesNotExist':
      return narrow.operator === 'DoesNotExist';
  }
}

/**
 * Whether `narrow` selects no more than `wide`, requirement by requirement: each requirement of
 * `wide` is implied by one of `narrow`. Sound, incomplete: an unprovable case counts as broader.
 */
export function labelSetWithin(narrow: LabelSet, wide: LabelSet): boolean {
  return wide.requirements.every((requirement) =>
    narrow.requirements.some((mine) => implies(mine, requirement)),
  );
}

/**
 * Concrete label maps that satisfy the set, one per combination of its `In` values (at most
 * `cap`): the label sets a selector can be judged on. Exists gets a placeholder value no
 * NotIn names.
 */
export function witnesses(set: LabelSet, cap = 64): Labels[] {
  let out: Record<string, string>[] = [{}];
  for (const requirement of set.requirements) {
    if (requirement.operator === 'In') {
      const next: Record<string, string>[] = [];
      for (const labels of out)
        for (const value of requirement.values) {
          if (next.length >= cap) break;
          next.push({ ...labels, [requirement.key]: value });
        }
      out = next;
    } else if (requirement.operator === 'Exists') {
      const banned = set.requirements
        .filter((r) => r.key === requirement.key && r.operator === 'NotIn')
        .flatMap((r) => r.values);
      let value = 'any';
      while (banned.includes(value)) value = `${value}-`;
      out = out.map((labels) => ({ ...labels, [requirement.key]: value }));
    }
  }
  return out.filter((labels) => labelSetMatches(set, labels));
}
