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

const byKindAndOperation = new Map<string, Rule[]>();
for (const rule of RULES) {
  for (const kind of rule.kinds) {
    for (const operation of rule.operations) {
      const key = `${kind}/${operation}`;
      byKindAndOperation.set(key, [...(byKindAndOperation.get(key) ?? []), rule]);
    }
  }
}

/** The rules that judge this kind on this operation, looked up once per request. */
export function rulesFor(kind: string, operation: Operation): readonly Rule[] {
  return byKindAndOperation.get(`${kind}/${operation}`) ?? [];
}

/** The rules that change this kind at /mutate on this operation (NS001 on Namespace CREATE). */
export function mutatorsFor(kind: string, operation: Operation): readonly Rule[] {
  return RULES.filter(
    (rule) => rule.kinds.includes(kind) && rule.mutation?.operations.includes(operation) === true,
  );
}
