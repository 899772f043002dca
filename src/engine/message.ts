import type { Environment } from '../config/policy.ts';
import type { Finding } from './types.ts';
import { WARNINGS_TOTAL_MAX, warningLine } from '../admission/warnings.ts';

/** Where waivers of cluster-scoped objects (Namespaces) live: netguard's own namespace. */
export const NETGUARD_NAMESPACE = 'netguard-system';

export function findingLine(finding: Finding): string {
  const notes = finding.notes.length > 0 ? ` (${finding.notes.join('; ')})` : '';
  return `${finding.rule} ${finding.name} at ${finding.path}: ${finding.message} ${finding.fix}${notes}`;
}

/** One short line per warned finding, prefixed `netguard RULE:`; kubectl prints `Warning: ` before it. */
export function warningLines(findings: readonly Finding[]): string[] {
  const lines: string[] = [];
  let total = 0;
  const warned = findings.filter((finding) => finding.level === 'warn');
  for (const [index, finding] of warned.entries()) {
    const notes = finding.notes.length > 0 ? ` (${finding.notes.join('; ')})` : '';
    const line = warningLine(`netguard ${finding.rule}: ${finding.path}: ${finding.message.replace(/\.$/, '')}${notes}`);
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
