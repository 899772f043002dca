/**
 * The controller's health, on its own plain-HTTP port (DESIGN "Who may, and until when"):
 * `/healthz` is the event loop answering (the probe's 2 s timeout is the bound; nothing about the
 * lease, or a standby would restart forever), `/readyz` is the caches synced, `/metrics` the
 * controller's series beside the process metrics.
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ControllerStatus, ReconcileResult } from './kube/controller.ts';
import { sendMetrics } from './metrics.ts';

const RESULTS: readonly ReconcileResult[] = ['success', 'error', 'lost-leadership'];

/** Reconciles by result, queue depth, leader (0/1), last successful reconcile: read at each scrape. */
export function registerControllerMetrics(
  registry: Registry,
  status: () => ControllerStatus | undefined,
): void {
  new Counter({
    name: 'netguard_controller_reconciles_total',
    help: 'Namespace reconciles by the baseline controller, by result',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      const now = status();
      for (const result of RESULTS) this.inc({ result }, now?.reconciles[result] ?? 0);
    },
  });
  const gauge = (name: string, help: string, read: (s: ControllerStatus) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const now = status();
        this.set(now === undefined ? 0 : read(now));
      },
    });
  };
  gauge(
    'netguard_controller_queue_depth',
    'Namespaces waiting to be reconciled',
    (s) => s.queueDepth,
  );
  gauge('netguard_controller_leader', '1 while this replica holds the lease', (s) =>
    s.leader ? 1 : 0,
  );
  gauge(
    'netguard_controller_last_success_timestamp_seconds',
    'When this replica last reconciled a namespace successfully (0: never)',
    (s) => (s.lastSuccessMs === undefined ? 0 : s.lastSuccessMs / 1000),
  );
}

export interface ControllerHealthServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface ControllerHealthOptions {
  readonly port: number;
  readonly host: string;
  readonly status: () => ControllerStatus | undefined;
  /** Unmet readiness conditions (caches not synced). */
  readonly notReady: () => string[];
  readonly processMetrics?: boolean;
}

export async function startControllerHealth(
  options: ControllerHealthOptions,
): Promise<ControllerHealthServer> {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  registerControllerMetrics(registry, options.status);
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { 'content-type': 'text/plain' }).end('GET only\n');
      return;
    }
    if (path === '/healthz') {
      // Answering at all is the proof: a blocked event loop answers nothing within the probe's timeout.
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}\n');
      return;
    }
    if (path === '/readyz') {
      const waiting = options.notReady();
      response
        .writeHead(waiting.length === 0 ? 200 : 503, { 'content-type': 'application/json' })
        .end(
          `${JSON.stringify(waiting.length === 0 ? { status: 'ready' } : { status: 'not ready', waiting })}\n`,
        );
      return;
    }
    if (path !== '/metrics') {
      response
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('GET /metrics, /healthz or /readyz\n');
      return;
    }
    sendMetrics(registry, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
