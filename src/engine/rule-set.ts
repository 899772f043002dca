import type { Operation } from '../vocabulary.ts';
import type { Rule } from './types.ts';

/** The rules the engine runs, handed to it in the context (the engine never imports a rule file). */
export interface RuleSet {
  readonly all: readonly Rule[];
  readonly byId: ReadonlyMap<string, Rule>;
  /** The rules that judge this kind on this operation, looked up once per request. */
  judging(kind: string, operation: Operation): readonly Rule[];
  /** The rules that change this kind at /mutate on this operation (NS001 on Namespace CREATE). */
  mutating(kind: string, operation: Operation): readonly Rule[];
}

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
