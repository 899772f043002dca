import type { Operation } from '../vocabulary.ts';
import type { Rule, RuleSet } from './types.ts';

/** Rules by `kind/operation`, for the operations `operationsOf` gives each rule; built once. */
function indexByKindAndOperation(
  rules: readonly Rule[],
  operationsOf: (rule: Rule) => readonly Operation[],
): ReadonlyMap<string, readonly Rule[]> {
  const index = new Map<string, Rule[]>();
  for (const rule of rules) {
    for (const kind of rule.kinds) {
      for (const operation of operationsOf(rule)) {
        const key = `${kind}/${operation}`;
        index.set(key, [...(index.get(key) ?? []), rule]);
      }
    }
  }
  return index;
}

/** Indexes a rule list once, at load. */
export function ruleSetOf(rules: readonly Rule[]): RuleSet {
  const judging = indexByKindAndOperation(rules, (rule) => rule.operations);
  const mutating = indexByKindAndOperation(rules, (rule) => rule.mutation?.operations ?? []);
  return {
    all: rules,
    byId: new Map(rules.map((rule) => [rule.id, rule])),
    judging: (kind, operation) => judging.get(`${kind}/${operation}`) ?? [],
    mutating: (kind, operation) => mutating.get(`${kind}/${operation}`) ?? [],
  };
}
