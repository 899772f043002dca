import { selectorMatches } from '../labels.ts';
import { ENVIRONMENT_LABEL, type NamespaceInfo } from '../vocabulary.ts';
import type { Environment, Policy } from './policy.ts';

/** What placed a namespace in its environment; `default` means nothing in the policy matched it. */
export type EnvironmentMatch = 'label' | 'selector' | 'pattern' | 'default';

/** The label wins, then an environment's selector, then its name patterns, then the default. */
export function matchEnvironment(
  policy: Policy,
  namespace: NamespaceInfo,
): { environment: Environment; by: EnvironmentMatch } {
  const labelled = namespace.labels[ENVIRONMENT_LABEL];
  if (labelled !== undefined) {
    const named = policy.environments.find((env) => env.name === labelled);
    if (named !== undefined) return { environment: named, by: 'label' };
  }
  const bySelector = policy.environments.find(
    (env) => env.selector !== undefined && selectorMatches(env.selector, namespace.labels),
  );
  if (bySelector !== undefined) return { environment: bySelector, by: 'selector' };
  const byPattern = policy.environments.find((env) =>
    env.patterns.some((re) => re.test(namespace.name)),
  );
  return byPattern === undefined
    ? { environment: policy.defaultEnvironment, by: 'default' }
    : { environment: byPattern, by: 'pattern' };
}

export function resolveEnvironment(policy: Policy, namespace: NamespaceInfo): Environment {
  return matchEnvironment(policy, namespace).environment;
}
