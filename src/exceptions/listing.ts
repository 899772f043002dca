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
  readonly state: WaiverState;
  readonly reason: string;
  readonly ticket: string | undefined;
  readonly requestedBy: string | undefined;
  readonly approvedBy: string | undefined;
  readonly source: Waiver['source'];
}

export function waiverRows(waivers: readonly Waiver[], now: Date, warnBeforeMs: number): WaiverRow[] {
  return waivers
    .map((waiver) => ({
      name: waiver.name,
      namespace: waiver.namespace,
      rules: [...waiver.rules],
      target: targetLabel(waiver.target),
      owner: waiver.owner,
      expires: waiver.expires,
      daysLeft: daysLeft(waiver, now),
      state: waiverState(waiver, now, warnBeforeMs),
      reason: waiver.reason,
      ticket: waiver.ticket,
      requestedBy: waiver.requestedBy,
      approvedBy: waiver.approvedBy,
      source: waiver.source,
    }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

const HEADERS = ['NAME', 'NAMESPACE', 'RULES', 'TARGET', 'OWNER', 'EXPIRES', 'DAYS LEFT', 'STATE'];

/** kubectl-style columns: padded, no borders. */
export function renderWaiverTable(rows: readonly WaiverRow[]): string {
  if (rows.length === 0) return 'No exceptions found.\n';
  const cells = rows.map((row) => [
    row.name,
    row.namespace,
    row.rules.join(','),
    row.target,
    row.owner,
    row.expires,
    String(row.daysLeft),
    row.state,
  ]);
  const widths = HEADERS.map((header, column) => Math.max(header.length, ...cells.map((line) => (line[column] ?? '').length)));
  const format = (line: readonly string[]): string => line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('   ').trimEnd();
  return `${[HEADERS, ...cells].map(format).join('\n')}\n`;
}
