import { ownershipFindings } from './ownership-checks.ts';
import { scopeFindings, type WaivableRules } from './scope-checks.ts';
import type { Environment } from '../config/policy.ts';
import { exceptionDraftOf } from '../model/guardrail-exception.ts';
import type { Waiver } from './waiver.ts';

const DAY_MS = 86_400_000;

/**
 * EX002 and EX003 on a waiver from any source, as admission judges a new one: a waiver from the
 * file (never admitted) or one written while the webhook was down must not waive more than one
 * admission would accept. Each problem reads `EX003 spec.target.kind: ...`.
 */
export function waiverProblems(
  object: unknown,
  namespace: string,
  guardrails: WaivableRules,
): string[] {
  const draft = exceptionDraftOf(object);
  return [
    ...ownershipFindings(draft).map((finding) => `EX002 ${finding.path}: ${finding.message}`),
    ...scopeFindings(draft, namespace, guardrails).map(
      (finding) => `EX003 ${finding.path}: ${finding.message}`,
    ),
  ];
}

/**
 * EX001's limit, judged when the waiver would apply: in the environment of what it covers (for a
 * Namespace waiver, the namespace's own). An expiry in the past is not a rejection: it is expired.
 */
export function expiryProblem(
  waiver: Waiver,
  environment: Environment,
  now: Date,
): string | undefined {
  const left = waiver.expiresAt - now.getTime();
  if (left <= environment.exceptionMaxDurationMs) return undefined;
  return `EX001 spec.expires: ${waiver.expires} is ${Math.ceil(left / DAY_MS)} days away; environment ${environment.name} allows at most ${environment.exceptionMaxDuration}`;
}
