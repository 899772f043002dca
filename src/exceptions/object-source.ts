import { formatIssues } from '../zod-errors.ts';
import { quoteArg } from '../engine/message.ts';
import {
  EXCEPTION_API_VERSION,
  EXCEPTION_KIND,
  exceptionsPath,
  guardrailExceptionSchema,
} from '../model/guardrail-exception.ts';
import { waiverProblems } from './checks.ts';
import type { WaivableRules } from './scope-checks.ts';
import type { ClusterExceptionSource } from './cluster-source.ts';
import { toWaiver, type Waiver } from './waiver.ts';

/**
 * GuardrailException objects in the cluster: anyone with RBAC may write one, so a waiver waives only
 * once approved by someone other than its requester (EX004); renewed with `netguard exception renew`.
 */
export const GUARDRAIL_EXCEPTION_SOURCE: ClusterExceptionSource = {
  name: 'cluster',
  trusted: false,
  renewal: (ref, maxDuration) =>
    `netguard exception renew -n ${quoteArg(ref.namespace)} ${quoteArg(ref.name)} --expires ${maxDuration}`,
  apiObject: { apiVersion: EXCEPTION_API_VERSION, kind: EXCEPTION_KIND },
  what: 'guardrailexceptions',
  path: exceptionsPath,
  waivers: (objects, onInvalid, guardrails) => waiversFromObjects(objects, onInvalid, guardrails),
};

/** Turns cluster objects into waivers; one that does not parse is skipped (and reported), never fatal. */
export function waiversFromObjects(
  objects: readonly Record<string, unknown>[],
  onInvalid: (object: Record<string, unknown>, problems: string[]) => void,
  guardrails: WaivableRules,
): Waiver[] {
  const waivers: Waiver[] = [];
  for (const object of objects) {
    // List items may omit apiVersion and kind; the collection says what they are.
    const parsed = guardrailExceptionSchema.safeParse({
      apiVersion: EXCEPTION_API_VERSION,
      kind: EXCEPTION_KIND,
      ...object,
    });
    if (parsed.success)
      waivers.push(
        toWaiver(
          parsed.data,
          GUARDRAIL_EXCEPTION_SOURCE,
          waiverProblems(parsed.data, parsed.data.metadata.namespace, guardrails),
        ),
      );
    else onInvalid(object, formatIssues(parsed.error));
  }
  return waivers;
}
