/**
 * Which environment a namespace is judged in (DESIGN "Who may, and until when"): the stricter of
 * (a) the environment its label `netguard.dev/environment` names and (b) the first match of
 * selector, name patterns and `defaultEnvironment`. A weaker label counts only under an approved
 * NS003 waiver naming the namespace; otherwise it is ignored (and NS003 warns that it is).
 */
import { selectorMatches } from '../labels.ts';
import {
  ENVIRONMENT_LABEL,
  MODE_STRICTNESS,
  type Level,
  type NamespaceInfo,
} from '../vocabulary.ts';
import type { Environment, Policy } from './policy.ts';

/** What placed a namespace in its environment; `default` means nothing in the policy matched it. */
export type EnvironmentMatch = 'label' | 'selector' | 'pattern' | 'default';

/** (b): the environment selector, name patterns and default give, never the namespace's own label. */
export function baseEnvironment(
  policy: Policy,
  namespace: NamespaceInfo,
): { environment: Environment; by: Exclude<EnvironmentMatch, 'label'> } {
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

/** (a): the configured environment the label names; an unknown value names none. */
export function labelEnvironment(
  policy: Policy,
  namespace: NamespaceInfo,
): Environment | undefined {
  const labelled = namespace.labels[ENVIRONMENT_LABEL];
  return labelled === undefined
    ? undefined
    : policy.environments.find((env) => env.name === labelled);
}

const LEVEL_RANK: Readonly<Record<Level, number>> = { off: 0, warn: 1, deny: 2 };

/** Stricter: a higher mode, then a shorter exceptionMaxDuration, then no rule at a lower level. */
export function atLeastAsStrict(policy: Policy, a: Environment, b: Environment): boolean {
  if (a.mode !== b.mode) return MODE_STRICTNESS[a.mode] > MODE_STRICTNESS[b.mode];
  if (a.exceptionMaxDurationMs !== b.exceptionMaxDurationMs)
    return a.exceptionMaxDurationMs < b.exceptionMaxDurationMs;
  return policy.ruleDefaults.every(
    (rule) => LEVEL_RANK[policy.levelOf(rule, a)] >= LEVEL_RANK[policy.levelOf(rule, b)],
  );
}

export interface EnvironmentResolution {
  /** The effective environment: where the namespace is judged and baselined. */
  readonly environment: Environment;
  readonly by: EnvironmentMatch;
  /** (b), which also bounds the namespace's waivers (EX001). */
  readonly base: Environment;
  /** A weaker label that did not count (no approved NS003 waiver): NS003 warns about it. */
  readonly ignoredLabel: Environment | undefined;
}

/**
 * The effective environment. `labelWaived(base)` says whether an approved NS003 waiver lets a
 * weaker label count; without one (offline, or no waiver) a weaker label is ignored.
 */
export function resolveNamespaceEnvironment(
  policy: Policy,
  namespace: NamespaceInfo,
  labelWaived: (base: Environment) => boolean = () => false,
): EnvironmentResolution {
  const base = baseEnvironment(policy, namespace);
  const label = labelEnvironment(policy, namespace);
  const plain = { environment: base.environment, by: base.by, base: base.environment };
  if (label === undefined || label === base.environment)
    return { ...plain, ignoredLabel: undefined };
  if (atLeastAsStrict(policy, label, base.environment) || labelWaived(base.environment))
    return { environment: label, by: 'label', base: base.environment, ignoredLabel: undefined };
  return { ...plain, ignoredLabel: label };
}

/** Kept for callers that only need the answer: the effective environment, the label counting only when at least as strict. */
export function matchEnvironment(
  policy: Policy,
  namespace: NamespaceInfo,
): { environment: Environment; by: EnvironmentMatch } {
  const { environment, by } = resolveNamespaceEnvironment(policy, namespace);
  return { environment, by };
}

export function resolveEnvironment(policy: Policy, namespace: NamespaceInfo): Environment {
  return resolveNamespaceEnvironment(policy, namespace).environment;
}
