import { mutate as mutateByRules } from '../engine/evaluate.ts';
import type { AdmissionInput, EvaluationContext, MutationDecision } from '../engine/types.ts';
import { mutateGuardrailException } from './exception-requester.ts';

/**
 * The mutating webhook's one entry: a decision with a JSON Patch and warnings, never a denial.
 * Guardrails that mutate (NS001) go through the engine's `mutate`, waivers included; a
 * GuardrailException, which the engine skips (`exception-bookkeeping`), gets netguard's own
 * bookkeeping (requestedBy, owner, approval), which no waiver can touch.
 */
export function mutate(input: AdmissionInput, ctx: EvaluationContext): MutationDecision {
  const decision = mutateByRules(input, ctx);
  if (decision.skipped !== 'exception-bookkeeping') return decision;
  return { ...decision, ...mutateGuardrailException(input, ctx) };
}
