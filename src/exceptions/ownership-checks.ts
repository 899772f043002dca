import type { RawFinding } from '../engine/types.ts';
import type { ExceptionDraft } from '../model/guardrail-exception.ts';

/** What `netguard exception request` prints when nobody filled it in: never a reason. */
const PLACEHOLDERS = new Set(['...', '…', 'todo', 'tbd', 'n/a']);

function judge(value: unknown, path: string, what: string, fix: string): RawFinding | undefined {
  if (typeof value !== 'string' || value.trim() === '')
    return { path, message: `is missing or empty, so nobody ${what}.`, fix };
  if (PLACEHOLDERS.has(value.trim().toLowerCase()))
    return { path, message: `${JSON.stringify(value)} is a placeholder, so nobody ${what}.`, fix };
  return undefined;
}

/** EX002 on a waiver, wherever it comes from. */
export function ownershipFindings(draft: ExceptionDraft): RawFinding[] {
  return [
    judge(
      draft.reason,
      'spec.reason',
      'can tell why the guardrail is waived',
      'Say why the guardrail cannot be met yet, and what ends the need.',
    ),
    judge(
      draft.owner,
      'spec.owner',
      'answers for the waiver',
      'Name the team or person responsible, e.g. team-crawl@example.com.',
    ),
  ].filter((finding) => finding !== undefined);
}
