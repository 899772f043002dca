import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from '../errors.ts';
import { formatIssues } from '../zod-errors.ts';
import { RULES_BY_ID } from '../rules/registry.ts';
import { compilePolicy, type Policy } from './policy.ts';
import { guardrailPolicySchema } from './schema.ts';

/** Parses and compiles policy text; `source` names the file in error messages. */
export function parsePolicy(text: string, source: string): Policy {
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
  const compiled = compilePolicy(parsed.data, RULES_BY_ID);
  if ('problems' in compiled)
    throw new ConfigError(`${source}: ${compiled.problems.join(`\n${source}: `)}`);
  return compiled.policy;
}

export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parsePolicy(text, path);
}
