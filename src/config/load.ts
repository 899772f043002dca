import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from '../errors.ts';
import { formatIssues } from '../zod-errors.ts';
import { compilePolicy, type Policy, type RuleDefaults } from './policy.ts';
import { guardrailPolicySchema } from './schema.ts';

/**
 * Parses and compiles policy text; `source` names the file in error messages. `rules` are the rules
 * the policy may name (rules/registry.ts's RULES_BY_ID), handed in: config never imports a rule.
 */
export function parsePolicy(
  text: string,
  source: string,
  rules: ReadonlyMap<string, RuleDefaults>,
): Policy {
  let document: unknown;
  try {
    document = parse(text, { prettyErrors: true });
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  if (document === null || document === undefined) {
    throw new ConfigError(
      `${source}: the file is empty; a policy needs apiVersion, kind and spec.environments (an empty file is never an empty policy)`,
    );
  }
  const parsed = guardrailPolicySchema.safeParse(document);
  if (!parsed.success)
    throw new ConfigError(`${source}: ${formatIssues(parsed.error).join(`\n${source}: `)}`);
  const compiled = compilePolicy(parsed.data, rules);
  if ('problems' in compiled)
    throw new ConfigError(`${source}: ${compiled.problems.join(`\n${source}: `)}`);
  return compiled.policy;
}

export function loadPolicyFile(path: string, rules: ReadonlyMap<string, RuleDefaults>): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parsePolicy(text, path, rules);
}
