import type { Environment } from '../config/policy.ts';
import type { Finding } from './types.ts';

/** Where waivers of cluster-scoped objects (Namespaces) live: netguard's own namespace. */
export const NETGUARD_NAMESPACE = 'netguard-system';

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
  /** What the waiver should target when not `kind/name`: a Pod named by generateName has no name yet. */
  readonly waiverTarget?: { readonly target: string; readonly selector?: string | undefined } | undefined;
}

function quoteArg(text: string): string {
  return /^[\w.\-/:@=,]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** The exact command a developer runs to ask for a waiver of what was denied. */
export function exceptionRequestLine(subject: Subject, environment: Environment): string {
  const rules = [...new Set(subject.findings.filter((f) => f.level === 'deny').map((f) => f.rule))].join(',');
  const clusterScoped = subject.kind === 'Namespace';
  const namespace = clusterScoped ? NETGUARD_NAMESPACE : subject.namespace;
  const chosen = subject.waiverTarget ?? { target: `${subject.kind.toLowerCase()}/${subject.name}` };
  const selector = chosen.selector === undefined ? '' : ` --selector ${quoteArg(chosen.selector)}`;
  return `netguard exception request -n ${quoteArg(namespace)} --rule ${rules} --target ${quoteArg(chosen.target)}${selector} --reason "..." --expires ${environment.exceptionMaxDuration}`;
}

/** The denial as kubectl shows it after `denied the request: `. */
export function denialMessage(subject: Subject, environment: Environment): string {
  const denied = subject.findings.filter((finding) => finding.level === 'deny');
  const where = subject.kind === 'Namespace' || subject.namespace === '' ? subject.name : `${subject.namespace}/${subject.name}`;
  const count = denied.length === 1 ? '1 guardrail' : `${denied.length} guardrails`;
  return [
    `${subject.kind} ${where} violates ${count} (environment ${environment.name}, mode ${environment.mode}):`,
    ...denied.map((finding) => `- ${findingLine(finding)}`),
    `Need more time? ${exceptionRequestLine(subject, environment)}`,
  ].join('\n');
}
