import type { Environment } from '../config/policy.ts';
import type { Finding, WaiverRef } from './types.ts';
import { stringMap } from '../labels.ts';
import { field, stringField } from '../object-access.ts';
import { NETGUARD_NAMESPACE, type KubeObject } from '../vocabulary.ts';

import { WARNINGS_TOTAL_MAX, warningLine } from '../text.ts';

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
    const line = warningLine(
      `netguard ${finding.rule}: ${finding.path}: ${finding.message.replace(/\.$/, '')}${notes}`,
    );
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
  /** The judged object, when at hand: a Pod's waiver then targets its workload or its labels. */
  readonly object?: KubeObject | undefined;
  /** Label keys a generateName Pod's waiver may select on (the required labels, which are stable). */
  readonly selectorKeys?: readonly string[] | undefined;
  /** The owners the engine trusts (RuleTarget.owners): a waiver naming an untrusted one would not match. */
  readonly owners?: readonly { readonly kind: string; readonly name: string }[] | undefined;
}

/**
 * `--target ...` for the request line. A Pod made by a workload is waived at the workload (its name
 * changes with every rollout); a Pod named only by `generateName` is waived by its labels, never by
 * the prefix, which no Pod is ever called.
 */
function targetArgs(subject: Subject): string {
  const named = `--target ${quoteArg(`${subject.kind.toLowerCase()}/${subject.name}`)}`;
  if (subject.kind !== 'Pod' || subject.object === undefined) return named;
  const owner = (subject.owners ?? []).at(-1);
  if (owner !== undefined && owner.name !== '')
    return `--target ${quoteArg(`${owner.kind.toLowerCase()}/${owner.name}`)}`;
  if (stringField(subject.object, 'metadata', 'name') !== '') return named;
  // Only stable labels: a selector on pod-template-hash would stop matching at the next rollout.
  const keys = new Set(subject.selectorKeys ?? []);
  const labels = Object.entries(stringMap(field(subject.object, 'metadata', 'labels')))
    .filter(([key, value]) => keys.has(key) && value !== '')
    .map(([key, value]) => `${key}=${value}`);
  return labels.length === 0
    ? '--target pod --selector <key=value>'
    : `--target pod --selector ${quoteArg(labels.join(','))}`;
}

/** One shell word: as it is when safe, else single-quoted. */
export function quoteArg(text: string): string {
  return /^[\w.\-/:@=,]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** What the printed command leaves for the developer to fill in; the CLI refuses it unchanged. */
export const REASON_PLACEHOLDER = '<why this is needed>';

/** EX rules guard the waivers themselves: a denial of a waiver never offers to waive them. */
const waivable = (finding: Finding): boolean => !finding.rule.startsWith('EX');

function day(timestamp: string): string {
  const iso = new Date(timestamp).toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : `${iso.slice(0, 19)}Z`;
}

/**
 * The exact command a developer runs to ask for a waiver of what was denied: one edit (the reason)
 * and it creates a pending waiver in the cluster that denied it (`--apply`); the owner defaults to
 * the namespace's `netguard.dev/owner` annotation, else the requester. Undefined when nothing denied is waivable.
 */
export function exceptionRequestLine(
  subject: Subject,
  environment: Environment,
): string | undefined {
  const denied = subject.findings.filter(
    (f) =>
      f.level === 'deny' &&
      waivable(f) &&
      f.expiredWaiver === undefined &&
      f.pendingWaiver === undefined,
  );
  const rules = [...new Set(denied.map((f) => f.rule))].join(',');
  if (rules === '') return undefined;
  // Namespaces and cluster-scoped kinds keep their waivers in netguard's own namespace.
  const namespace =
    subject.kind === 'Namespace' || subject.namespace === ''
      ? NETGUARD_NAMESPACE
      : subject.namespace;
  return (
    `netguard exception request -n ${quoteArg(namespace)} --rule ${rules} ${targetArgs(subject)} ` +
    `--expires ${environment.exceptionMaxDuration} --reason "${REASON_PLACEHOLDER}" --apply`
  );
}

/** One line per expired waiver behind a deny: it names the waiver and the command that renews it. */
function renewLines(subject: Subject, environment: Environment): string[] {
  const expired = new Map<string, NonNullable<Finding['expiredWaiver']>>();
  for (const finding of subject.findings) {
    if (finding.level === 'deny' && finding.expiredWaiver !== undefined) {
      expired.set(
        `${finding.expiredWaiver.namespace}/${finding.expiredWaiver.name}`,
        finding.expiredWaiver,
      );
    }
  }
  return [...expired.values()].map((ref) => {
    const lapsed = `Waiver ${ref.namespace}/${ref.name} expired on ${day(ref.expires)}; the guardrail applies again, to updates too.`;
    // Each source says how its waivers are renewed (a reviewed file edit, `exception renew`, ...).
    return `${lapsed} Still needed? ${ref.renewal(environment.exceptionMaxDuration)}`;
  });
}

/** One line per pending waiver behind a deny: nothing to request, an approver has to sign it. */
function approveLines(subject: Subject): string[] {
  const pending = new Map<string, WaiverRef>();
  for (const finding of subject.findings) {
    if (finding.level === 'deny' && finding.pendingWaiver !== undefined) {
      pending.set(
        `${finding.pendingWaiver.namespace}/${finding.pendingWaiver.name}`,
        finding.pendingWaiver,
      );
    }
  }
  return [...pending.values()].map(
    (ref) =>
      `Waiver ${ref.namespace}/${ref.name} is pending: it waives nothing until a member of the approver groups runs ` +
      `netguard exception approve -n ${quoteArg(ref.namespace)} ${quoteArg(ref.name)}`,
  );
}

/** How the denial ends: approve a pending waiver, renew an expired one, request a new one, or (for a waiver) fix it. */
export function unblockLines(subject: Subject, environment: Environment): string[] {
  const request = exceptionRequestLine(subject, environment);
  const lines = [
    ...approveLines(subject),
    ...renewLines(subject, environment),
    ...(request === undefined ? [] : [`Need more time? ${request}`]),
  ];
  if (subject.findings.some((f) => f.level === 'deny' && !waivable(f))) {
    lines.push('EX rules guard the waivers themselves and cannot be waived: fix the fields above.');
  }
  return lines;
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
  const where = warningLine(
    subject.kind === 'Namespace' || subject.namespace === ''
      ? subject.name
      : `${subject.namespace}/${subject.name}`,
    260,
  );
  const count = denied.length === 1 ? '1 guardrail' : `${denied.length} guardrails`;
  const shown = denied.slice(0, DENIAL_FINDINGS_IN_FULL);
  const rest = denied.slice(DENIAL_FINDINGS_IN_FULL);
  return [
    `${subject.kind} ${where} violates ${count} (environment ${environment.name}, mode ${environment.mode}):`,
    ...shown.map((finding) => `- ${warningLine(findingLine(finding), DENIAL_LINE_MAX)}`),
    ...(rest.length === 0
      ? []
      : [
          `- and ${rest.length} more (${warningLine(countsByRule(rest), DENIAL_LINE_MAX)}); run netguard check -f on the manifest for every finding`,
        ]),
    ...unblockLines(subject, environment).map((line) => warningLine(line, 2 * DENIAL_LINE_MAX)),
  ].join('\n');
}
