import { terminalSafe } from '../text.ts';
import { stringify } from 'yaml';
import { requiredLabelKeys, type Policy } from '../config/policy.ts';
import { unblockLines } from '../engine/message.ts';
import type { Decision, Finding } from '../engine/types.ts';
import {
  describeLocation,
  type Manifest,
  type ManifestError,
  type SkippedInput,
} from '../manifests.ts';

export interface CheckResult {
  readonly manifest: Manifest;
  readonly decision: Decision;
}

export interface CheckReport {
  readonly results: readonly CheckResult[];
  readonly errors: readonly ManifestError[];
  /** The policy file judged with, as people should read it (bundled or --config). */
  readonly policy: string;
  /** How inputs were read where that is not obvious (kustomizations). */
  readonly notes: readonly string[];
  /** Loud: objects whose environment had to be guessed, so their verdict may be too lenient. */
  readonly guesses: readonly string[];
  /** Inputs found in directories that are not Kubernetes manifests. */
  readonly skipped: readonly SkippedInput[];
  /** No --namespace: objects that name none were placed in "default", which is a guess. */
  readonly namespaceGuessed?: boolean;
}

// Not a shell metacharacter: a pasted command with it fails on the namespace, not on the syntax.
const UNKNOWN_NAMESPACE = 'NAMESPACE';

const namesNamespace = (manifest: Manifest): boolean => {
  const metadata = manifest.object['metadata'];
  return (
    metadata !== null &&
    typeof metadata === 'object' &&
    typeof (metadata as Record<string, unknown>)['namespace'] === 'string'
  );
};

/** A finding as one sentence pair for people and for JSON: what is wrong, why, and what to do. */
export function findingText(finding: Finding): string {
  const notes = finding.notes.length > 0 ? ` (${finding.notes.join('; ')})` : '';
  return `${finding.message} ${finding.fix}${notes}`;
}

const hasWarnings = (decision: Decision): boolean =>
  decision.findings.some((finding) => finding.level === 'warn');

export function summaryOf(results: readonly CheckResult[]): {
  objects: number;
  denied: number;
  warned: number;
} {
  return {
    objects: results.length,
    denied: results.filter((result) => !result.decision.allowed).length,
    // Admitted with at least one warning; a denied object counts once, as denied.
    warned: results.filter((result) => result.decision.allowed && hasWarnings(result.decision))
      .length,
  };
}

/**
 * The JSON shape of DESIGN.md, `{results: [...], summary: {objects, denied, warned}}`, plus where
 * each object and finding sits (`file`, `line`) and which `policy` judged them.
 */
function checkDocument(report: CheckReport): object {
  const results = report.results.map(({ manifest, decision }) => ({
    file: manifest.file,
    line: manifest.source.line,
    kind: decision.kind,
    namespace: decision.namespace,
    name: decision.name,
    environment: decision.environment ?? null,
    mode: decision.mode ?? null,
    verdict: decision.allowed ? 'allowed' : 'denied',
    findings: decision.findings.map((finding) => ({
      rule: finding.rule,
      level: finding.level,
      path: finding.path,
      line: manifest.source.lineOf(finding.path),
      message: findingText(finding),
      ...(finding.waivedBy === undefined ? {} : { waivedBy: finding.waivedBy }),
    })),
  }));
  const skipped = report.skipped.map((input) => ({
    file: input.file,
    ...(input.document === undefined ? {} : { document: input.document }),
    reason: input.reason,
  }));
  // `skipped` only when a walk skipped something: the shape DESIGN.md fixes stays as it is.
  return {
    results,
    summary: summaryOf(report.results),
    policy: report.policy,
    ...(skipped.length === 0 ? {} : { skipped }),
  };
}

export function renderJson(report: CheckReport): string {
  return `${JSON.stringify(checkDocument(report), null, 2)}\n`;
}

/** `-o yaml`: the same document as `-o json`. */
export function renderYaml(report: CheckReport): string {
  return stringify(checkDocument(report), { lineWidth: 0 });
}

// Manifests are anyone's files: names and messages are printed without terminal control characters.

interface Paint {
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly green: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly bold: (text: string) => string;
}

const ansi =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`;
const COLOR: Paint = {
  red: ansi(31, 39),
  yellow: ansi(33, 39),
  green: ansi(32, 39),
  dim: ansi(2, 22),
  bold: ansi(1, 22),
};
const identity = (text: string): string => text;
const PLAIN: Paint = {
  red: identity,
  yellow: identity,
  green: identity,
  dim: identity,
  bold: identity,
};

function verdictLabel(decision: Decision, paint: Paint): string {
  if (decision.skipped !== undefined) return paint.dim('SKIPPED');
  if (!decision.allowed) return paint.red('DENIED ');
  return hasWarnings(decision) ? paint.yellow('WARNED ') : paint.green('OK     ');
}

function renderResult(
  { manifest, decision }: CheckResult,
  paint: Paint,
  policy: Policy,
  namespaceGuessed: boolean,
): string[] {
  const where =
    decision.namespace === '' ? decision.name : `${decision.namespace}/${decision.name}`;
  const context =
    decision.skipped !== undefined
      ? 'excluded namespace'
      : `${decision.environment ?? ''}, ${decision.mode ?? ''}`;
  const location = `${describeLocation(manifest)}, line ${manifest.source.line}`;
  const lines = [
    `${verdictLabel(decision, paint)} ${paint.bold(terminalSafe(`${decision.kind} ${where}`))} (${context})  ${paint.dim(terminalSafe(location))}`,
  ];
  for (const finding of decision.findings) {
    const level = finding.level === 'deny' ? paint.red('deny') : paint.yellow('warn');
    const line = paint.dim(`(line ${manifest.source.lineOf(finding.path)})`);
    lines.push(
      `  ${level} ${finding.rule} ${finding.name} at ${terminalSafe(finding.path)} ${line}`,
      `       ${terminalSafe(findingText(finding))}`,
    );
  }
  const environment = policy.environments.find((env) => env.name === decision.environment);
  if (!decision.allowed && environment !== undefined) {
    // The object names no namespace and none was given: "default" was a guess, not where it goes.
    const guessed = namespaceGuessed && decision.kind !== 'Namespace' && !namesNamespace(manifest);
    const namespace = guessed ? UNKNOWN_NAMESPACE : decision.namespace;
    lines.push(
      ...unblockLines(
        {
          ...decision,
          namespace,
          object: manifest.object,
          selectorKeys: requiredLabelKeys(policy),
        },
        environment,
      ).map((line) => `  ${terminalSafe(line)}`),
      ...(guessed
        ? [
            `  (${UNKNOWN_NAMESPACE}: the namespace this object is deployed to; it names none, so check judged it in "${decision.namespace}")`,
          ]
        : []),
    );
  }
  return lines;
}

/** Grouped per object, one verdict line each with its findings under it, then a summary. */
export function renderText(
  report: CheckReport,
  options: { color: boolean; policy: Policy },
): string {
  const paint = options.color ? COLOR : PLAIN;
  const lines = [
    `Policy: ${terminalSafe(report.policy)}`,
    ...report.results.flatMap((result) =>
      renderResult(result, paint, options.policy, report.namespaceGuessed === true),
    ),
  ];
  const summary = summaryOf(report.results);
  const admitted = summary.objects - summary.denied - summary.warned;
  const errors =
    report.errors.length > 0
      ? `; ${report.errors.length} input ${report.errors.length === 1 ? 'error' : 'errors'} (see stderr)`
      : '';
  lines.push(
    `${summary.objects} ${summary.objects === 1 ? 'object' : 'objects'}: ${summary.denied} denied, ${summary.warned} admitted with warnings, ${admitted} admitted${errors}`,
  );
  return `${lines.join('\n')}\n`;
}
