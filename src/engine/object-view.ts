import type { KubeObject } from '../vocabulary.ts';
import type { SizeLimits } from '../config/limits.ts';
import { countNetworkPolicy, excessOf, type Excess } from '../model/size-bound.ts';
import { exceptionDraftOf, type ExceptionDraft } from '../model/guardrail-exception.ts';
import { parseNetworkPolicy, type NetworkPolicy } from '../model/network-policy.ts';
import { countDialectPolicy } from '../model/dialects/size.ts';

/**
 * The reviewed object parsed once, as every rule reads it. A NetworkPolicy whose shape is invalid
 * has no view: the API server validates NetworkPolicies before validating webhooks run, and
 * `check` reports an invalid one as an input error, so rules may simply skip it.
 */
export interface ObjectView {
  readonly networkPolicy: NetworkPolicy | undefined;
  /**
   * A policy over `networkPolicies.limits` (NP013): counted on the parsed JSON and never compiled,
   * so `networkPolicy` is then undefined and the other rules skip it.
   */
  readonly excess?: readonly Excess[];
  /** A GuardrailException, each spec field parsed on its own for the EX rules. */
  readonly exception: ExceptionDraft | undefined;
}

const NOTHING: ObjectView = { networkPolicy: undefined, exception: undefined };

export function viewOf(kind: string, object: KubeObject, limits?: SizeLimits): ObjectView {
  if (kind === 'GuardrailException') return { ...NOTHING, exception: exceptionDraftOf(object) };
  if (kind !== 'NetworkPolicy') {
    // A dialect policy is counted too; past the limits it is not compiled (the judges skip it).
    const counts = limits === undefined ? undefined : countDialectPolicy(kind, object);
    const excess = counts === undefined || limits === undefined ? [] : excessOf(counts, limits);
    return excess.length > 0 ? { ...NOTHING, excess } : NOTHING;
  }
  if (limits !== undefined) {
    const excess = excessOf(countNetworkPolicy(object), limits);
    if (excess.length > 0) return { ...NOTHING, excess };
  }
  const parsed = parseNetworkPolicy(object);
  return { ...NOTHING, networkPolicy: parsed.ok ? parsed.policy : undefined };
}
