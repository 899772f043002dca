/**
 * netguard findings as PolicyReports (wgpolicyk8s.io/v1alpha2, the Kubernetes Policy WG format that
 * Kyverno writes and Policy Reporter shows): one PolicyReport per namespace, one ClusterPolicyReport
 * for cluster-scoped objects and namespace baselines. Pure: built from an audit's decisions.
 */
import type { Judged, NamespaceReport } from '../audit/scan.ts';
import type { Finding } from '../engine/types.ts';
import { RULES_BY_ID } from '../rules/registry.ts';
import { stringField } from '../object-access.ts';
import type { KubeObject } from '../vocabulary.ts';

export const REPORT_API_VERSION = 'wgpolicyk8s.io/v1alpha2';
/** Every report netguard writes has this name and label; the writer only touches these. */
export const REPORT_NAME = 'netguard';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'netguard' } as const;
export const TRUNCATED_ANNOTATION = 'netguard.dev/results-truncated';
const SOURCE = 'netguard';
const CATEGORY = 'Network guardrails';
/**
 * etcd refuses requests past 1.5 MiB, and one report must never stop the others: results are
 * capped by count and by bytes. Messages and property values are clipped (requester-controlled
 * names and paths can be long), and a report's results stop at REPORT_BYTES_MAX of JSON. The summary
 * always counts everything; the annotation says how many results were left out (passes never listed).
 */
export const MAX_RESULTS = 1000;
export const MESSAGE_MAX = 1024;
export const PROPERTY_MAX = 256;
export const REPORT_BYTES_MAX = 512 * 1024;

const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** The result with its free text bounded: a few KiB at most, whatever the finding held. */
function bounded(result: ReportResult): ReportResult {
  return {
    ...result,
    message: clip(result.message, MESSAGE_MAX),
    properties: Object.fromEntries(
      Object.entries(result.properties).map(([key, value]) => [key, clip(value, PROPERTY_MAX)]),
    ),
    resources: result.resources.map((ref) =>
      Object.fromEntries(
        Object.entries(ref).map(([key, value]) => [key, clip(value, PROPERTY_MAX)]),
      ),
    ),
  };
}

/** The first results, in order, that fit both caps. */
function fitting(sorted: readonly ReportResult[]): ReportResult[] {
  const kept: ReportResult[] = [];
  let bytes = 0;
  for (const result of sorted) {
    if (kept.length === MAX_RESULTS) break;
    const size = Buffer.byteLength(JSON.stringify(result));
    if (bytes + size > REPORT_BYTES_MAX) break;
    kept.push(result);
    bytes += size;
  }
  return kept;
}

type ResultKind = 'pass' | 'fail' | 'warn' | 'error' | 'skip';

export interface ReportResult {
  readonly policy: string;
  readonly rule: string;
  readonly category: string;
  readonly result: ResultKind;
  readonly severity: 'critical' | 'high' | 'medium' | 'low' | 'info';
  readonly scored: boolean;
  readonly source: string;
  readonly message: string;
  readonly timestamp: { readonly seconds: number; readonly nanos: number };
  readonly resources: readonly Record<string, string>[];
  readonly properties: Readonly<Record<string, string>>;
}

export interface Summary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

/** deny → fail, warn → warn, waived → skip (as Kyverno reports a PolicyException). */
function resultOf(finding: Finding): ResultKind {
  if (finding.waivedBy !== undefined) return 'skip';
  return finding.level === 'deny' ? 'fail' : 'warn';
}

/** How bad the rule is where it matters most: its level in enforce. */
const severityOf = (ruleId: string): ReportResult['severity'] =>
  RULES_BY_ID.get(ruleId)?.levels.enforce === 'deny' ? 'high' : 'medium';

function reference(object: KubeObject): Record<string, string> {
  const ref: Record<string, string> = {
    apiVersion: stringField(object, 'apiVersion'),
    kind: stringField(object, 'kind'),
    name: stringField(object, 'metadata', 'name'),
  };
  const namespace = stringField(object, 'metadata', 'namespace');
  const uid = stringField(object, 'metadata', 'uid');
  if (namespace !== '' && ref['kind'] !== 'Namespace') ref['namespace'] = namespace;
  if (uid !== '') ref['uid'] = uid;
  return ref;
}

const timestampOf = (now: Date): ReportResult['timestamp'] => ({
  seconds: Math.floor(now.getTime() / 1000),
  nanos: 0,
});

function findingResult(entry: Judged, finding: Finding, now: Date): ReportResult {
  const { decision } = entry;
  const notes = finding.notes.length > 0 ? ` (${finding.notes.join('; ')})` : '';
  const waived = finding.waivedBy;
  return {
    policy: finding.rule,
    rule: finding.name,
    category: CATEGORY,
    result: resultOf(finding),
    severity: severityOf(finding.rule),
    scored: true,
    source: SOURCE,
    message: `${finding.path}: ${finding.message} ${finding.fix}${notes}`,
    timestamp: timestampOf(now),
    resources: [reference(entry.object)],
    properties: {
      path: finding.path,
      environment: decision.environment ?? '',
      mode: decision.mode ?? '',
      ...(waived === undefined
        ? {}
        : { waivedBy: `${waived.namespace}/${waived.name}`, waiverExpires: waived.expires }),
    },
  };
}

function baselineResult(
  ns: NamespaceReport,
  namespace: KubeObject | undefined,
  now: Date,
): ReportResult {
  return {
    policy: 'NS001',
    rule: 'baseline',
    category: CATEGORY,
    result: 'warn',
    severity: 'medium',
    scored: true,
    source: SOURCE,
    message: `namespace ${ns.name} lacks the ${ns.mode} baseline annotations (${ns.baselineMissing.join(', ')}): the controller keeps no default-deny policy there. Annotate it; NS001 only sets them on new namespaces.`,
    timestamp: timestampOf(now),
    resources: [
      namespace === undefined
        ? { apiVersion: 'v1', kind: 'Namespace', name: ns.name }
        : reference(namespace),
    ],
    properties: { environment: ns.environment, mode: ns.mode },
  };
}

const ORDER: Readonly<Record<ResultKind, number>> = {
  fail: 0,
  error: 1,
  warn: 2,
  skip: 3,
  pass: 4,
};

function report(
  kind: 'PolicyReport' | 'ClusterPolicyReport',
  namespace: string | undefined,
  results: ReportResult[],
  passed: number,
): KubeObject {
  const summary: Summary = { pass: passed, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const result of results) summary[result.result] += 1;
  const sorted = results.map(bounded).sort((a, b) => ORDER[a.result] - ORDER[b.result]);
  const kept = fitting(sorted);
  const dropped = sorted.length - kept.length;
  return {
    apiVersion: REPORT_API_VERSION,
    kind,
    metadata: {
      name: REPORT_NAME,
      ...(namespace === undefined ? {} : { namespace }),
      labels: { ...MANAGED_BY },
      ...(dropped > 0
        ? {
            annotations: {
              [TRUNCATED_ANNOTATION]: `${dropped} of ${sorted.length} results not listed; the summary counts all`,
            },
          }
        : {}),
    },
    ...(namespace === undefined
      ? {}
      : { scope: { apiVersion: 'v1', kind: 'Namespace', name: namespace } }),
    summary,
    results: kept,
  };
}

export interface PolicyReportInput {
  readonly judged: readonly Judged[];
  /** Judged namespaces (excluded ones are not): each gets a report, empty ones too, so old results clear. */
  readonly namespaces: readonly NamespaceReport[];
  readonly namespaceObjects: readonly KubeObject[];
  readonly now: Date;
}

/** One PolicyReport per judged namespace, then the ClusterPolicyReport. */
export function policyReports(input: PolicyReportInput): KubeObject[] {
  const byNamespace = new Map<string, { results: ReportResult[]; passed: number }>(
    input.namespaces.map((ns) => [ns.name, { results: [], passed: 0 }]),
  );
  const cluster = { results: [] as ReportResult[], passed: 0 };
  for (const entry of input.judged) {
    const bucket =
      entry.decision.namespace === '' ? cluster : byNamespace.get(entry.decision.namespace);
    if (bucket === undefined) continue;
    if (entry.decision.findings.length === 0) bucket.passed += 1;
    for (const finding of entry.decision.findings)
      bucket.results.push(findingResult(entry, finding, input.now));
  }
  const namespaceObject = new Map(
    input.namespaceObjects.map((ns) => [stringField(ns, 'metadata', 'name'), ns]),
  );
  for (const ns of input.namespaces) {
    if (ns.baselineMissing.length > 0)
      cluster.results.push(baselineResult(ns, namespaceObject.get(ns.name), input.now));
  }
  return [
    ...[...byNamespace.entries()].map(([name, bucket]) =>
      report('PolicyReport', name, bucket.results, bucket.passed),
    ),
    report('ClusterPolicyReport', undefined, cluster.results, cluster.passed),
  ];
}
