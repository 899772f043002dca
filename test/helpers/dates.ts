import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/**
 * Fixture dates relative to the run's clock, so no fixture goes stale: `{{now}}`, `{{now+14d}}`,
 * `{{now-5d}}`, `{{now+2h}}`, `{{now-30m}}`. A fixture whose test pins its clock may hold a fixed date
 * instead, on a line that says why with `# fixed-date: ...` (test/fixtures/dates.test.ts checks).
 */
const TOKEN = /\{\{now(?:([+-])(\d+)([dhm]))?\}\}/g;
const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000 };

/** RFC 3339 in whole seconds, as Kubernetes writes timestamps. */
export const rfc3339 = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`;

export function resolveDates(text: string, now: Date = new Date()): string {
  return text.replace(TOKEN, (_match, sign?: string, amount?: string, unit?: string) => {
    const offset = sign === undefined ? 0 : Number(amount) * (UNIT_MS[unit ?? 'd'] ?? 0);
    return rfc3339(new Date(now.getTime() + (sign === '-' ? -offset : offset)));
  });
}

/** Reads a fixture with its relative dates resolved against `now`. */
export const readFixture = (path: string, now?: Date): string =>
  resolveDates(readFileSync(path, 'utf8'), now);

/** A copy of a fixture with its dates resolved, for code that reads files by path. */
export function datedCopy(path: string, now?: Date): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'netguard-fixture-')), basename(path));
  writeFileSync(copy, readFixture(path, now));
  return copy;
}
