import { CONTROL_RUNS } from './terminal-text.ts';

/**
 * Text from a reviewed or listed object, made safe to print on a terminal (check, audit, reach,
 * advise): a name or message cannot move the cursor, colour the screen or forge a line.
 */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL_RUNS, ' ');
}

/**
 * The one sanitiser for `response.warnings`. The API server drops a warning holding a control
 * character, cuts one past 256 characters and trims the list past 4 KiB; kubectl prints each
 * after `Warning: `. Every warning either webhook returns passes through here (encodeReview),
 * whatever built it, so a username or an annotation value cannot smuggle a line break in.
 */
export const WARNING_MAX = 256;
export const WARNINGS_TOTAL_MAX = 4096;

// C0, DEL, C1, and the Unicode line and paragraph separators: each run becomes one space.
const NOT_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
// Half a surrogate pair is not UTF-8 at all; Go would turn it into U+FFFD anyway.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** One printable line of at most `max` characters (code points; never half a surrogate pair). */
export function warningLine(text: string, max = WARNING_MAX): string {
  const flat = text.replace(NOT_ONE_LINE, ' ').replace(LONE_SURROGATE, '\ufffd');
  if (flat.length <= max) return flat;
  const points = Array.from(flat);
  return points.length <= max ? flat : `${points.slice(0, max - 1).join('')}…`;
}

/** Every warning one line and short, and the list under the API server's total. */
export function sanitiseWarnings(warnings: readonly string[]): string[] {
  const lines: string[] = [];
  let total = 0;
  for (const warning of warnings) {
    const line = warningLine(warning);
    if (total + line.length > WARNINGS_TOTAL_MAX) break;
    lines.push(line);
    total += line.length;
  }
  return lines;
}
