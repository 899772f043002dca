/**
 * A namespace's effective environment as the engine sees it: the config's resolution, with the
 * waivers in memory answering whether an approved NS003 waiver lets a weaker label count.
 */
import { resolveNamespaceEnvironment, type EnvironmentResolution } from '../config/environment.ts';
import type { NamespaceInfo } from '../vocabulary.ts';
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
