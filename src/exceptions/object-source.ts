import { formatIssues } from '../zod-errors.ts';
import {
  EXCEPTION_API_VERSION,
  EXCEPTION_KIND,
  guardrailExceptionSchema,
} from '../model/guardrail-exception.ts';
import { waiverProblems } from './checks.ts';
import type { WaivableRules } from './scope-checks.ts';
import { toWaiver, type Waiver } from './waiver.ts';

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
          'cluster',
          waiverProblems(parsed.data, parsed.data.metadata.namespace, guardrails),
        ),
      );
    else onInvalid(object, formatIssues(parsed.error));
  }
  return waivers;
}
