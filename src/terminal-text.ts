/**
 * Requester-written text on an approver's terminal. DESIGN "Who may, and until when": control
 * characters are Unicode Cc (C0, DEL, C1) and the bidi controls U+202A–U+202E, U+2066–U+2069; an
 * escape sequence or a carriage return would redraw what the approver reads, a bidi override would
 * reorder it. Admission refuses them (EX002); every CLI output scrubs them all the same, since a
 * waiver may come from a file or predate the check.
 */
const CONTROL_CLASS = '\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069';
const CONTROL = new RegExp(`[${CONTROL_CLASS}]`, 'u');
const CONTROL_EXCEPT_LINE_FEED = new RegExp(
  `[${CONTROL_CLASS.replace('\\u0000-\\u001f', '\\u0000-\\u0009\\u000b-\\u001f')}]`,
  'u',
);
const CONTROLS = new RegExp(`[${CONTROL_CLASS}]`, 'gu');
/** Runs of control characters, for outputs that show each run as one space. */
export const CONTROL_RUNS = new RegExp(`[${CONTROL_CLASS}]+`, 'gu');

/** The first control character in `text` (a line feed allowed where `lineFeed` says so), as U+XXXX. */
export function controlCharacterIn(
  text: string,
  options: { lineFeed?: boolean } = {},
): string | undefined {
  const found = (options.lineFeed === true ? CONTROL_EXCEPT_LINE_FEED : CONTROL).exec(text);
  return found === null
    ? undefined
    : `U+${(found[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * One line with every control character shown as a visible `\uXXXX`, so nothing is hidden or
 * redrawn. The same spelling is a valid escape in JSON strings and YAML double-quoted scalars, so
 * scrubbed JSON and YAML output still parse (and decode to the original value).
 */
export function escapeControls(text: string): string {
  return text.replace(
    CONTROLS,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}

/** Several lines (a waiver's reason): each line scrubbed, continuation lines indented. */
export function escapeControlLines(text: string, indent: string): string {
  return text
    .split('\n')
    .map((line, index) => (index === 0 ? '' : indent) + escapeControls(line))
    .join('\n');
}
