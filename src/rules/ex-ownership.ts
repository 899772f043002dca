import type { RawFinding, Rule } from '../engine/types.ts';
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

export const exOwnership: Rule = {
  id: 'EX002',
  name: 'exception-ownership',
  kinds: ['GuardrailException'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'deny', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      '`spec.reason` and `spec.owner` are present and not empty (nor a placeholder such as `...` or `TBD`).',
    prevents:
      'Waivers nobody can explain or answer for: when one expires or causes an incident, someone must know why it exists and who to call.',
    fix: 'Write why the guardrail cannot be met yet (and until when) in `reason`, and a team or person who answers for it in `owner`.',
    fires: `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: crawler-egress, namespace: prod-crawl}
spec:
  rules: [NP004]
  target: {kind: NetworkPolicy, name: crawler-egress}
  reason: "..."
  expires: "2026-12-06T00:00:00Z"
`,
    passes: `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: crawler-egress, namespace: prod-crawl}
spec:
  rules: [NP004]
  target: {kind: NetworkPolicy, name: crawler-egress}
  reason: Vendor API has no fixed addresses until the Q1 migration
  owner: team-crawl@example.com
  expires: "2026-12-06T00:00:00Z"
`,
  },
  check(target) {
    return target.view.exception === undefined ? [] : ownershipFindings(target.view.exception);
  },
};

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
