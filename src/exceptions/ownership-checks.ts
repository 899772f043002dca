import type { RawFinding } from '../engine/types.ts';
import type { ExceptionDraft } from '../model/guardrail-exception.ts';
import { keyPath } from '../object-access.ts';
import { controlCharacterIn } from '../terminal-text.ts';

// Kubernetes label syntax: an optional DNS-subdomain prefix and a name of at most 63 characters.
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return LABEL_NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && LABEL_PREFIX.test(prefix) && LABEL_NAME.test(key.slice(slash + 1));
}

const CONTROL_FIX =
  'Write it as plain text: no control characters (escape sequences, carriage returns, bidi overrides); a line feed is allowed in the reason only.';

/** Requester-written text an approver reads on a terminal: no control characters (DESIGN "Who may"). */
function controlFinding(value: unknown, path: string, lineFeed = false): RawFinding[] {
  if (typeof value !== 'string') return [];
  const found = controlCharacterIn(value, { lineFeed });
  return found === undefined
    ? []
    : [
        {
          path,
          message: `holds the control character ${found}, which would redraw or reorder what an approver reads on a terminal.`,
          fix: CONTROL_FIX,
        },
      ];
}

/** Selector keys and values follow Kubernetes label syntax (which also keeps control characters out). */
function selectorFindings(selector: unknown): RawFinding[] {
  if (selector === null || typeof selector !== 'object') return [];
  const findings: RawFinding[] = [];
  const bad = (path: string, what: string, text: string): void => {
    findings.push({
      path,
      message: `${JSON.stringify(text)} is not a valid label ${what}.`,
      fix: 'Use Kubernetes label syntax: letters, digits, "-", "_" and "." (keys may have a DNS prefix and "/"), at most 63 characters.',
    });
  };
  const { matchLabels, matchExpressions } = selector as Record<string, unknown>;
  if (matchLabels !== null && typeof matchLabels === 'object') {
    for (const [key, value] of Object.entries(matchLabels)) {
      const path = keyPath('spec.target.selector.matchLabels', key);
      if (!isLabelKey(key)) bad(path, 'key', key);
      else if (typeof value === 'string' && !LABEL_VALUE.test(value)) bad(path, 'value', value);
    }
  }
  if (Array.isArray(matchExpressions)) {
    matchExpressions.forEach((term: unknown, index) => {
      if (term === null || typeof term !== 'object') return;
      const { key, values } = term as Record<string, unknown>;
      const at = `spec.target.selector.matchExpressions[${index}]`;
      if (typeof key === 'string' && !isLabelKey(key)) bad(`${at}.key`, 'key', key);
      if (!Array.isArray(values)) return;
      values.forEach((value: unknown, position) => {
        if (typeof value === 'string' && !LABEL_VALUE.test(value))
          bad(`${at}.values[${position}]`, 'value', value);
      });
    });
  }
  return findings;
}

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
  ]
    .filter((finding) => finding !== undefined)
    .concat(
      controlFinding(draft.reason, 'spec.reason', true),
      controlFinding(draft.owner, 'spec.owner'),
      controlFinding(draft.ticket, 'spec.ticket'),
      controlFinding(draft.target?.name, 'spec.target.name'),
      selectorFindings(draft.target?.selector),
    );
}
