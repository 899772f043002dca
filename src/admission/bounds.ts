import type { AdmissionInput } from '../engine/types.ts';
import type { KubeObject } from '../vocabulary.ts';

/**
 * How large an object netguard judges: JSON values (objects, arrays, scalars, counted at every
 * depth) and nesting. Checked on the parsed JSON before any view is built, so the work and memory
 * of judging a review are bounded whatever its shape. Far above any real workload or Namespace
 * (hundreds of values) and above a NetworkPolicy at NP013's default limits (rules, peers and ports
 * 1,000 each, values 10,000: under 60,000 values); NP013 names the finer counts below this.
 */
export const REVIEW_BOUNDS = { values: 100_000, depth: 32 } as const;

export interface Bounds {
  readonly values: number;
  readonly depth: number;
}

/** Which bound an object passes, and the count that passed it (counting stops there). */
export interface Exceeded {
  readonly bound: 'values' | 'depth';
  readonly limit: number;
}

/**
 * The first bound `value` exceeds, or undefined. Iterative, and it stops at the bound: the cost
 * is at most `bounds.values` steps whatever the input.
 */
export function exceededBound(
  value: unknown,
  bounds: Bounds = REVIEW_BOUNDS,
): Exceeded | undefined {
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  let values = 0;
  const tooMany: Exceeded = { bound: 'values', limit: bounds.values };
  // Every value on the stack is counted when it is taken: past the bound, stop pushing.
  const push = (child: unknown, depth: number): boolean => {
    if (stack.length + values >= bounds.values) return false;
    stack.push(child);
    depths.push(depth);
    return true;
  };
  while (stack.length > 0) {
    const current = stack.pop();
    const depth = depths.pop() ?? 1;
    values++;
    if (current === null || typeof current !== 'object') continue;
    if (depth > bounds.depth) return { bound: 'depth', limit: bounds.depth };
    if (Array.isArray(current)) {
      for (const child of current) if (!push(child, depth + 1)) return tooMany;
    } else {
      const fields = current as Record<string, unknown>;
      for (const key in fields) if (!push(fields[key], depth + 1)) return tooMany;
    }
  }
  return undefined;
}

/** The words of a denial: what was sent, the bound it passed, what to do. */
export function boundMessage(kind: string, exceeded: Exceeded): string {
  const what =
    exceeded.bound === 'values'
      ? `more than ${exceeded.limit.toLocaleString('en-US')} JSON values (objects, arrays, strings, numbers at any depth)`
      : `nesting deeper than ${exceeded.limit} levels`;
  return `netguard review bound at request.object: this ${kind || 'object'} has ${what}; netguard judges objects up to ${REVIEW_BOUNDS.values.toLocaleString('en-US')} values nested up to ${REVIEW_BOUNDS.depth} deep, so it is denied unjudged. Split it into several smaller objects (for a NetworkPolicy: several policies selecting the same pods, whose rules add up).`;
}

/** The identity of an object, all a rule may read of one too large to judge. */
function identityOf(object: KubeObject): KubeObject {
  const metadata = object['metadata'];
  const fields =
    metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)
      ? (metadata as Record<string, unknown>)
      : {};
  const kept: Record<string, unknown> = {};
  for (const key of ['name', 'namespace', 'uid', 'labels'] as const)
    if (fields[key] !== undefined) kept[key] = fields[key];
  const slim = { apiVersion: object['apiVersion'], kind: object['kind'], metadata: kept };
  return exceededBound(slim) === undefined
    ? slim
    : {
        apiVersion: object['apiVersion'],
        kind: object['kind'],
        metadata: { name: fields['name'], namespace: fields['namespace'] },
      };
}

export type BoundedReview =
  | { readonly ok: true; readonly input: AdmissionInput }
  | { readonly ok: false; readonly message: string };

/**
 * A review within the bounds, before any view is built. A new `object` past a bound is denied
 * (its AdmissionReview says which bound). An `oldObject` past one (already stored: etcd accepted
 * it) is judged by its identity only, so it can still be shrunk, relabelled or deleted.
 */
export function boundedReview(input: AdmissionInput): BoundedReview {
  const object = input.object;
  if (object !== undefined) {
    const exceeded = exceededBound(object);
    if (exceeded !== undefined) return { ok: false, message: boundMessage(input.kind, exceeded) };
  }
  const old = input.oldObject;
  if (old === undefined || exceededBound(old) === undefined) return { ok: true, input };
  return { ok: true, input: { ...input, oldObject: identityOf(old) } };
}
