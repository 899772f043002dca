import { selectorMatches } from '../labels.ts';
import { ENVIRONMENT_LABEL, type NamespaceInfo } from '../vocabulary.ts';
import type { Environment, Policy } from './policy.ts';

/** The label wins, then an environment's selector, then its name patterns, then the default. */
export function resolveEnvironment(policy: Policy, namespace: NamespaceInfo): Environment {
  const labelled = namespace.labels[ENVIRONMENT_LABEL];
  if (labelled !== undefined) {
    const named = policy.environments.find((env) => env.name === labelled);
    if (named !== undefined) return named;
  }
  const bySelector = policy.environments.find(
    (env) => env.selector !== undefined && selectorMatches(env.selector, namespace.labels),
  );
  if (bySelector !== undefined) return bySelector;
  const byPattern = policy.environments.find((env) => env.patterns.some((re) => re.test(namespace.name)));
  return byPattern ?? policy.defaultEnvironment;
}
