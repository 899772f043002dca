/**
 * A namespace's effective environment as the engine sees it: the config's resolution, with the
 * waivers in memory answering whether an approved NS003 waiver lets a weaker label count.
 */
import { resolveNamespaceEnvironment, type EnvironmentResolution } from '../config/environment.ts';
import type { Mode, NamespaceInfo } from '../vocabulary.ts';
import type { EvaluationContext } from './types.ts';

export const ENVIRONMENT_WAIVER_RULE = 'NS003';

export function effectiveEnvironment(
  namespace: NamespaceInfo,
  ctx: EvaluationContext,
): EnvironmentResolution {
  return resolveNamespaceEnvironment(
    ctx.policy,
    namespace,
    (base) =>
      ctx.waivers.namespaceWaiver(namespace.name, ENVIRONMENT_WAIVER_RULE, base, ctx.now) !==
      undefined,
  );
}

/** Waivers that let a namespace run without (or below) its baseline. */
const BASELINE_WAIVER_RULES = ['NS001', 'NS002'] as const;

/**
 * The mode whose baseline the controller keeps at least for this namespace: its own environment's,
 * when it carries a weaker environment label that no longer counts (an NS003 waiver expired, or
 * never was), unless an approved NS001/NS002 waiver names it. Otherwise the annotations alone.
 */
export function baselineFloor(namespace: NamespaceInfo, ctx: EvaluationContext): Mode | undefined {
  const resolved = effectiveEnvironment(namespace, ctx);
  if (resolved.ignoredLabel === undefined) return undefined;
  const optedOut = BASELINE_WAIVER_RULES.some(
    (rule) =>
      ctx.waivers.namespaceWaiver(namespace.name, rule, resolved.base, ctx.now) !== undefined,
  );
  return optedOut ? undefined : resolved.environment.mode;
}
