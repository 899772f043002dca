import type { Environment } from '../config/policy.ts';
import type { Finding } from './types.ts';
import { NETGUARD_NAMESPACE } from '../vocabulary.ts';


// The API server drops warnings with control characters, cuts each at 256 characters and the list at 4 KiB.
const WARNING_MAX = 256;
const WARNINGS_TOTAL_MAX = 4096;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

export function findingLine(finding: Finding): string {
  const notes = finding.notes.length > 0 ? ` (${finding.notes.join('; ')})` : '';
  return `${finding.rule} ${finding.name} at ${finding.path}: ${finding.message} ${finding.fix}${notes}`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(CONTROL, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** One short line per warned finding, prefixed `netguard RULE:`; kubectl prints `Warning: ` before it. */
export function warningLines(findings: readonly Finding[]): string[] {
  const lines: string[] = [];
  let total = 0;
  const warned = findings.filter((finding) => finding.level === 'warn');
  for (const [index, finding] of warned.entries()) {
    const notes = finding.notes.length > 0 ? ` (${finding.notes.join('; ')})` : '';
    const line = oneLine(`netguard ${finding.rule}: ${finding.path}: ${finding.message.replace(/\.$/, '')}${notes}`, WARNING_MAX);
    const rest = warned.length - index;
    const more = `netguard: ${rest} more findings; run netguard check for the full list`;
    if (total + line.length > WARNINGS_TOTAL_MAX - more.length) {
      lines.push(more);
      break;
    }
    lines.push(line);
    total += line.length;
  }
  return lines;
}

interface Subject {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly findings: readonly Finding[];
}

function quoteArg(text: string): string {
  return /^[\w.\-/:@]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** The exact command a developer runs to ask for a waiver of what was denied. */
export function exceptionRequestLine(subject: Subject, environment: Environment): string {
  const rules = [...new Set(subject.findings.filter((f) => f.level === 'deny').map((f) => f.rule))].join(',');
  const clusterScoped = subject.kind === 'Namespace';
  const namespace = clusterScoped ? NETGUARD_NAMESPACE : subject.namespace;
  const target = `${subject.kind.toLowerCase()}/${subject.name}`;
  return `netguard exception request -n ${quoteArg(namespace)} --rule ${rules} --target ${quoteArg(target)} --reason "..." --expires ${environment.exceptionMaxDuration}`;
}

// A denial stays readable and small whatever the object holds: the first findings in full (each
// line cut), then counts per rule. Under 4 KiB in all; `netguard check` prints every finding.
const DENIAL_FINDINGS_IN_FULL = 8;
const DENIAL_LINE_MAX = 360;

/** `NP004 x812, NP005 x3` for the findings past the ones shown in full. */
function countsByRule(findings: readonly Finding[]): string {
  const counts = new Map<string, number>();
  for (const finding of findings) counts.set(finding.rule, (counts.get(finding.rule) ?? 0) + 1);
  return [...counts].map(([rule, count]) => `${rule} x${count}`).join(', ');
}

/** The denial as kubectl shows it after `denied the request: `. */
export function denialMessage(subject: Subject, environment: Environment): string {
  const denied = subject.findings.filter((finding) => finding.level === 'deny');
  const where = oneLine(subject.kind === 'Namespace' || subject.namespace === '' ? subject.name : `${subject.namespace}/${subject.name}`, 260);
  const count = denied.length === 1 ? '1 guardrail' : `${denied.length} guardrails`;
  const shown = denied.slice(0, DENIAL_FINDINGS_IN_FULL);
  const rest = denied.slice(DENIAL_FINDINGS_IN_FULL);
  return [
    `${subject.kind} ${where} violates ${count} (environment ${environment.name}, mode ${environment.mode}):`,
    ...shown.map((finding) => `- ${oneLine(findingLine(finding), DENIAL_LINE_MAX)}`),
    ...(rest.length === 0 ? [] : [`- and ${rest.length} more (${oneLine(countsByRule(rest), DENIAL_LINE_MAX)}); run netguard check -f on the manifest for every finding`]),
    oneLine(`Need more time? ${exceptionRequestLine(subject, environment)}`, 2 * DENIAL_LINE_MAX),
  ].join('\n');
}
