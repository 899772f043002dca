import type { Operation } from '../vocabulary.ts';
import type { Rule } from '../engine/types.ts';
import { exExpiry } from './ex-expiry.ts';
import { exOwnership } from './ex-ownership.ts';
import { exScope } from './ex-scope.ts';
import { exApproval } from './ex-approval.ts';
import { GUARDRAIL_RULES } from './guardrails.ts';

/** Every rule netguard knows: the guardrails, then the rules that guard their waivers. */
export const RULES: readonly Rule[] = [
  ...GUARDRAIL_RULES,
  exExpiry,
  exOwnership,
  exScope,
  exApproval,
];

export const RULES_BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((rule) => [rule.id, rule]));

/** Rules by `kind/operation`, for the operations `operationsOf` gives each rule; built once at load. */
function indexByKindAndOperation(
  operationsOf: (rule: Rule) => readonly Operation[],
): ReadonlyMap<string, readonly Rule[]> {
  const index = new Map<string, Rule[]>();
  for (const rule of RULES) {
    for (const kind of rule.kinds) {
      for (const operation of operationsOf(rule)) {
        const key = `${kind}/${operation}`;
        index.set(key, [...(index.get(key) ?? []), rule]);
      }
    }
  }
  return index;
}

const judging = indexByKindAndOperation((rule) => rule.operations);
const mutating = indexByKindAndOperation((rule) => rule.mutation?.operations ?? []);

/** The rules that judge this kind on this operation, looked up once per request. */
export function rulesFor(kind: string, operation: Operation): readonly Rule[] {
  return judging.get(`${kind}/${operation}`) ?? [];
}

/** The rules that change this kind at /mutate on this operation (NS001 on Namespace CREATE). */
export function mutatorsFor(kind: string, operation: Operation): readonly Rule[] {
  return mutating.get(`${kind}/${operation}`) ?? [];
}
