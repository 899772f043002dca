import type { LabelSelector } from '../labels.ts';

/** A label selector with both parts present (absent parts read as empty), as the model holds it. */
export interface Selector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: NonNullable<LabelSelector['matchExpressions']>;
}

/** The API server defaults this label on every namespace, so `Exists` on it holds everywhere. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

type Term = Selector['matchExpressions'][number];

/** A policy's parsed selector or a waiver's label selector: both are label selectors. */
interface AnySelector {
  readonly matchLabels?: Readonly<Record<string, string>> | undefined;
  readonly matchExpressions?:
    | readonly {
        readonly key: string;
        readonly operator: string;
        readonly values?: readonly string[] | undefined;
      }[]
    | undefined;
}

/** `NotIn` and `DoesNotExist` only exclude; an object without the label satisfies them. */
const excludesOnly = (term: Term): boolean =>
  term.operator === 'NotIn' || term.operator === 'DoesNotExist';

/**
 * Whether a namespaceSelector selects every namespace that exists or will be created: it has no
 * positive requirement (matchLabels, In, Exists on a label namespaces may lack). `{}`,
 * `NotIn [x]`, `DoesNotExist` and `Exists` on kubernetes.io/metadata.name all qualify.
 */
export function selectsEveryNamespace(selector: Selector): boolean {
  if (Object.keys(selector.matchLabels).length > 0) return false;
  return selector.matchExpressions.every((term) =>
    term.key === NAMESPACE_NAME_LABEL
      ? term.operator === 'Exists' || term.operator === 'NotIn'
      : excludesOnly(term),
  );
}

/** Whether a podSelector selects every pod that could exist (pods carry no label by default). */
export function selectsEveryPod(selector: Selector): boolean {
  return (
    Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.every(excludesOnly)
  );
}

/** The values a selector lets `key` take, when it pins the key by equality (matchLabels or In); else undefined. */
export function requiredValues(selector: Selector, key: string): ReadonlySet<string> | undefined {
  let allowed: Set<string> | undefined;
  const narrow = (values: readonly string[]): void => {
    allowed = new Set(values.filter((value) => allowed === undefined || allowed.has(value)));
  };
  if (Object.hasOwn(selector.matchLabels, key)) narrow([selector.matchLabels[key] ?? '']);
  for (const term of selector.matchExpressions) {
    if (term.key === key && term.operator === 'In') narrow(term.values ?? []);
  }
  return allowed;
}

/** Whether every object the selector matches has `key=value`. */
export function requiresLabel(selector: Selector, key: string, value: string): boolean {
  const values = requiredValues(selector, key);
  return values !== undefined && [...values].every((allowed) => allowed === value);
}

/** Whether the selector pins some label by equality (matchLabels, or In): the least a waiver may select on. */
export function hasEqualityRequirement(selector: AnySelector): boolean {
  return (
    Object.keys(selector.matchLabels ?? {}).length > 0 ||
    (selector.matchExpressions ?? []).some(
      (term) => term.operator === 'In' && (term.values ?? []).length > 0,
    )
  );
}

/**
 * Whether `narrow` selects no more than `wide`: it keeps every requirement of `wide` (and may add
 * more). Conservative: a rewrite that means the same but is spelled otherwise counts as broader.
 */
export function selectorNoBroader(narrow: Selector, wide: Selector): boolean {
  const labels = Object.entries(wide.matchLabels).every(
    ([key, value]) => Object.hasOwn(narrow.matchLabels, key) && narrow.matchLabels[key] === value,
  );
  const same = (a: Term, b: Term): boolean =>
    a.key === b.key &&
    a.operator === b.operator &&
    JSON.stringify(a.values ?? []) === JSON.stringify(b.values ?? []);
  return (
    labels &&
    wide.matchExpressions.every((term) => narrow.matchExpressions.some((mine) => same(mine, term)))
  );
}
