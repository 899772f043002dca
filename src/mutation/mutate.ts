import { judgedInput, mutate as mutateByRules } from '../engine/evaluate.ts';
import type { AdmissionInput, EvaluationContext, JsonPatchOperation } from '../engine/types.ts';
import { mutateGuardrailException } from './exception-requester.ts';

export interface Mutation {
  readonly patch: JsonPatchOperation[];
  readonly warnings: string[];
}

/**
 * The mutating webhook's one entry: a JSON Patch and warnings, never a denial. Guardrails that
 * mutate (NS001) go through the engine's `mutate`, waivers included; a GuardrailException gets
 * netguard's own bookkeeping (requestedBy, owner, approval), which no waiver can touch.
 */
export function mutate(input: AdmissionInput, ctx: EvaluationContext): Mutation {
  if (judgedInput(input).kind === 'GuardrailException') return mutateGuardrailException(input, ctx);
  return mutateByRules(input, ctx);
}
