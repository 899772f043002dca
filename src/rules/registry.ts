import { ruleSetOf } from '../engine/rule-set.ts';
import type { Rule, RuleSet } from '../engine/types.ts';
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

/** The list indexed for the engine, which takes it in its context (`ctx.rules`). */
export const RULE_SET: RuleSet = ruleSetOf(RULES);
