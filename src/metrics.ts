import { createServer, type Server, type ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Waiver } from './exceptions/waiver.ts';
import { MODES, POD_KINDS } from './vocabulary.ts';
import { RULES } from './rules/registry.ts';
import { SKIPS } from './engine/skips.ts';
import type { DecisionRecord } from './server/app.ts';

/**
 * Review latency in seconds. The engine answers in tens of microseconds, so the useful
 * resolution is below a millisecond; the top buckets catch the pathological tail before
 * the API server's own timeout.
 */
export const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1,
];

export type ReloadResult = 'success' | 'failure';

/**
 * Label values come from requests, so each is checked against what netguard knows: a made-up
 * kind, mode or rule is `other`, and the number of series stays fixed whatever tenants send.
 */
const KNOWN_KINDS: ReadonlySet<string> = new Set([
  'Pod',
  ...POD_KINDS,
  'NetworkPolicy',
  'Namespace',
  'GuardrailException',
]);
const KNOWN_OPERATIONS: ReadonlySet<string> = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
const KNOWN_MODES: ReadonlySet<string> = new Set(MODES);
const KNOWN_RULES: ReadonlySet<string> = new Set(RULES.map((rule) => rule.id));
const KNOWN_LEVELS: ReadonlySet<string> = new Set(['deny', 'warn']);
const KNOWN_SKIPS: ReadonlySet<string> = new Set(SKIPS.map((skip) => skip.reason));
export const OTHER = 'other';
const known = (set: ReadonlySet<string>, value: string): string => (set.has(value) ? value : OTHER);

/**
 * A counter kept as plain numbers per label set and copied into prom-client when scraped: an
 * `inc` through prom-client (also through a bound child) hashes its label object every time.
 * Keys are the label values joined by spaces; every value comes from a bounded set without one.
 */
function tallied(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly string[],
): (key: string) => void {
  const counts = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, count] of counts) {
        const values = key.split(' ');
        this.inc(
          Object.fromEntries(labelNames.map((label, index) => [label, values[index] ?? ''])),
          count,
        );
      }
    },
  });
  return (key) => {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
}

/** The files `serve` watches and reloads (watchParsedFile's `what`). */
const RELOADED_FILES = ['policy', 'exceptions'] as const;

export interface MetricsOptions {
  /** Waiver counts per state (active, expiring, expired, pending), read at each scrape. */
  readonly waiverCounts?: () => Readonly<Record<string, number>>;
  /** Every known waiver, read at each scrape for the expiry timestamps. */
  readonly waivers?: () => readonly Waiver[];
  /** Process metrics (CPU, RSS, event loop, GC); tests that only read netguard's own series may turn them off. */
  readonly processMetrics?: boolean;
  /** Distinct `namespace` label values on findings before the rest count as `_other` (default 200). */
  readonly maxNamespaces?: number;
}

/**
 * The `namespace` label of findings, bounded: the first N namespaces seen keep their name, later
 * ones share `_other`, so a tenant creating namespaces cannot grow the series without limit.
 * Cluster-scoped objects (Namespaces themselves) are `_cluster`.
 */
function boundedNamespaces(limit: number): (namespace: string) => string {
  const seen = new Set<string>();
  return (namespace) => {
    if (namespace === '') return '_cluster';
    if (seen.has(namespace)) return namespace;
    if (seen.size >= limit) return '_other';
    seen.add(namespace);
    return namespace;
  };
}

export interface Metrics {
  readonly registry: Registry;
  /** buildApp's onDecision hook. */
  recordDecision(record: DecisionRecord): void;
  /** watchParsedFile's onReload hook, per file (`policy`, `exceptions`). */
  recordReload(file: string, result: ReloadResult): void;
}

/** Builds a fresh registry and its metrics; nothing exists until this is called. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const countReview = tallied(
    registry,
    'netguard_admission_reviews_total',
    'Admission reviews answered, by webhook, kind, operation, verdict and mode.',
    ['webhook', 'kind', 'operation', 'verdict', 'mode'],
  );
  const latency = new Histogram({
    name: 'netguard_admission_review_duration_seconds',
    help: 'Time from a decoded review to its decision, by webhook.',
    labelNames: ['webhook'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const countFinding = tallied(
    registry,
    'netguard_findings_total',
    'Findings in answered reviews, by rule, final level (after downgrades and waivers) and namespace (bounded).',
    ['rule', 'level', 'namespace'],
  );
  const countSkip = tallied(
    registry,
    'netguard_admission_skips_total',
    'Reviews the rules did not judge, by webhook and reason (subresource, excluded-namespace, controller-written, exception-bookkeeping).',
    ['webhook', 'reason'],
  );
  const reloads = new Counter({
    name: 'netguard_config_reloads_total',
    help: 'Reloads of watched files; a failure keeps the last good version.',
    labelNames: ['file', 'result'] as const,
    registers: [registry],
  });
  // Every series exists from the first scrape, at 0: increase() over a series born at 1 sees nothing.
  for (const file of RELOADED_FILES)
    for (const result of ['success', 'failure'] as const) reloads.inc({ file, result }, 0);
  const namespaceLabel = boundedNamespaces(options.maxNamespaces ?? 200);
  const waiverCounts = options.waiverCounts;
  new Gauge({
    name: 'netguard_waivers',
    help: 'GuardrailExceptions known to this replica, by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      if (waiverCounts === undefined) return;
      for (const [state, count] of Object.entries(waiverCounts())) this.set({ state }, count);
    },
  });
  expiryGauge(registry, options.waivers);
  // One bound child per webhook (two): observe() without building a label object per review.
  const latencyOf = { validate: latency.labels('validate'), mutate: latency.labels('mutate') };
  return {
    registry,
    recordDecision(record) {
      const { decision } = record;
      const kind = known(KNOWN_KINDS, record.input.kind);
      const operation = known(KNOWN_OPERATIONS, record.input.operation);
      const mode = decision.mode === undefined ? 'none' : known(KNOWN_MODES, decision.mode);
      countReview(
        `${record.webhook} ${kind} ${operation} ${decision.allowed ? 'allowed' : 'denied'} ${mode}`,
      );
      latencyOf[record.webhook].observe(record.seconds);
      if (decision.skipped !== undefined)
        countSkip(`${record.webhook} ${known(KNOWN_SKIPS, decision.skipped)}`);
      if (decision.findings.length === 0) return;
      const namespace = namespaceLabel(record.input.namespace);
      for (const finding of decision.findings) {
        countFinding(
          `${known(KNOWN_RULES, finding.rule)} ${known(KNOWN_LEVELS, finding.level)} ${namespace}`,
        );
      }
    },
    recordReload(file, result) {
      reloads.inc({ file, result });
    },
  };
}

/**
 * When each approved waiver ends, per rule it waives: `(metric - time()) < 3 * 86400` is the
 * PrometheusRule's alert (deploy/monitoring/). Pending waivers waive nothing and are left out;
 * expired ones stay until deleted, so a dashboard can still show what lapsed.
 */
function expiryGauge(registry: Registry, waivers: (() => readonly Waiver[]) | undefined): void {
  new Gauge({
    name: 'netguard_exception_expiry_timestamp_seconds',
    help: 'Expiry of each approved GuardrailException, as a Unix timestamp, per waived rule.',
    labelNames: ['namespace', 'name', 'rule'] as const,
    registers: [registry],
    collect() {
      if (waivers === undefined) return;
      this.reset();
      for (const waiver of waivers()) {
        if (!waiver.approved) continue;
        for (const rule of waiver.rules)
          this.set(
            { namespace: waiver.namespace, name: waiver.name, rule },
            waiver.expiresAt / 1000,
          );
      }
    },
  });
}

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Answers one scrape: the registry's text, or a 500 naming why it could not be collected. */
export function sendMetrics(registry: Registry, response: ServerResponse): void {
  registry.metrics().then(
    (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
    (err: unknown) =>
      response
        .writeHead(500, { 'content-type': 'text/plain' })
        .end(`metrics collection failed: ${String(err)}\n`),
  );
}

/** Plain HTTP, `GET /metrics` only, on its own port: admission traffic never shares it. */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host: string,
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('only GET /metrics is served here\n');
      return;
    }
    sendMetrics(registry, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shownHost}:${boundPort}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
