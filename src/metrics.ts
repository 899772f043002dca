import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DecisionRecord } from './server/app.ts';

/**
 * Review latency in seconds. The engine answers in tens of microseconds, so the useful
 * resolution is below a millisecond; the top buckets catch the pathological tail before
 * the API server's own timeout.
 */
export const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];

export type ReloadResult = 'success' | 'failure';

export interface MetricsOptions {
  /** Waiver counts per state (active, expiring, expired, pending), read at each scrape. */
  readonly waiverCounts?: () => Readonly<Record<string, number>>;
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
  const reviews = new Counter({
    name: 'netguard_admission_reviews_total',
    help: 'Admission reviews answered, by webhook, kind, operation, verdict and mode.',
    labelNames: ['webhook', 'kind', 'operation', 'verdict', 'mode'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'netguard_admission_review_duration_seconds',
    help: 'Time from a decoded review to its decision, by webhook.',
    labelNames: ['webhook'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const findings = new Counter({
    name: 'netguard_findings_total',
    help: 'Findings in answered reviews, by rule, final level (after downgrades and waivers) and namespace (bounded).',
    labelNames: ['rule', 'level', 'namespace'] as const,
    registers: [registry],
  });
  const reloads = new Counter({
    name: 'netguard_config_reloads_total',
    help: 'Reloads of watched files; a failure keeps the last good version.',
    labelNames: ['file', 'result'] as const,
    registers: [registry],
  });
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
  return {
    registry,
    recordDecision(record) {
      reviews.inc({ webhook: record.webhook, kind: record.input.kind, operation: record.input.operation, verdict: record.allowed ? 'allowed' : 'denied', mode: record.mode ?? 'none' });
      latency.observe({ webhook: record.webhook }, record.seconds);
      if (record.findings.length === 0) return;
      const namespace = namespaceLabel(record.input.namespace);
      for (const finding of record.findings) findings.inc({ rule: finding.rule, level: finding.level, namespace });
    },
    recordReload(file, result) {
      reloads.inc({ file, result });
    },
  };
}

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Plain HTTP, `GET /metrics` only, on its own port: admission traffic never shares it. */
export async function startMetricsServer(registry: Registry, port: number, host: string): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${String(err)}\n`),
    );
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
