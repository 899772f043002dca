import type { Environment } from '../config/policy.ts';
import { escapeControls } from '../terminal-text.ts';
import { expiryProblem } from './checks.ts';
import { daysLeft, waiverState, type WaiverState } from './state.ts';
import { targetLabel, type Waiver } from './waiver.ts';

export interface WaiverRow {
  readonly name: string;
  readonly namespace: string;
  readonly rules: readonly string[];
  readonly target: string;
  readonly owner: string;
  readonly expires: string;
  readonly daysLeft: number;
  /** `rejected`: it parsed but fails EX001-EX003, so it waives nothing; `rejectedBecause` says why. */
  readonly state: WaiverState | 'rejected';
  readonly rejectedBecause: readonly string[];
  readonly reason: string;
  readonly ticket: string | undefined;
  readonly requestedBy: string | undefined;
  readonly approvedBy: string | undefined;
  /** The source's name (`file`, `cluster`). */
  readonly source: string;
}

/** `environmentOf` gives the environment whose exceptionMaxDuration a waiver is held to, when known. */
export function waiverRows(
  waivers: readonly Waiver[],
  now: Date,
  warnBeforeMs: number,
  environmentOf?: (waiver: Waiver) => Environment | undefined,
): WaiverRow[] {
  const rejectionsOf = (waiver: Waiver): string[] => {
    const environment = environmentOf?.(waiver);
    const expiry = environment === undefined ? undefined : expiryProblem(waiver, environment, now);
    return expiry === undefined ? [...waiver.rejected] : [...waiver.rejected, expiry];
  };
  return waivers
    .map((waiver) => ({ waiver, rejected: rejectionsOf(waiver) }))
    .map(({ waiver, rejected }) => ({
      name: waiver.name,
      namespace: waiver.namespace,
      rules: [...waiver.rules],
      target: targetLabel(waiver.target),
      owner: waiver.owner,
      expires: waiver.expires,
      daysLeft: daysLeft(waiver, now),
      state: rejected.length > 0 ? ('rejected' as const) : waiverState(waiver, now, warnBeforeMs),
      rejectedBecause: rejected,
      reason: waiver.reason,
      ticket: waiver.ticket,
      requestedBy: waiver.requestedBy,
      approvedBy: waiver.approvedBy,
      source: waiver.source.name,
    }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

const HEADERS = ['NAME', 'NAMESPACE', 'RULES', 'TARGET', 'OWNER', 'EXPIRES', 'DAYS LEFT', 'STATE'];

/** kubectl-style columns: padded, no borders. */
export function renderWaiverTable(rows: readonly WaiverRow[]): string {
  if (rows.length === 0) return 'No exceptions found.\n';
  // Requester-written: one visible line each, whatever they hold (a waiver may come from a file).
  const cells = rows.map((row) =>
    [
      row.name,
      row.namespace,
      row.rules.join(','),
      row.target,
      row.owner,
      row.expires,
      String(row.daysLeft),
      row.state,
    ].map(escapeControls),
  );
  const widths = HEADERS.map((header, column) =>
    Math.max(header.length, ...cells.map((line) => (line[column] ?? '').length)),
  );
  const format = (line: readonly string[]): string =>
    line
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('   ')
      .trimEnd();
  const reasons = rows.flatMap((row) =>
    row.rejectedBecause.map((reason) =>
      escapeControls(`${row.namespace}/${row.name} rejected: ${reason}`),
    ),
  );
  return `${[HEADERS, ...cells].map(format).join('\n')}\n${reasons.map((line) => `${line}\n`).join('')}`;
}
