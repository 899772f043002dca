import type { Command } from 'commander';
import { z } from 'zod';
import { clusterRequested, loadKubeConfig } from '../kube/client.ts';
import type { Logger } from 'pino';
import { startController, type RunningController } from '../kube/controller.ts';
import { createLogger } from '../log.ts';
import { createMetrics, startMetricsServer } from '../metrics.ts';
import { buildApp } from '../server/app.ts';
import { BODY_LIMIT, bodyBudgetMetrics } from '../server/body-budget.ts';
import { DRAIN_WINDOW_MS } from '../server/drain.ts';
import { loadOrCreateServingPair, servingContextOptions, watchServingPair } from '../server/tls.ts';
import { startWorld, type LiveWorld } from '../world.ts';
import { configOption, contextOption, exceptionsOption, kubeconfigOption, parseOptions, port, UsageError } from './options.ts';

const serveOptions = z.strictObject({
  config: z.string().min(1),
  exceptions: z.string().min(1),
  port,
  metricsPort: port,
  host: z.string().min(1),
  certs: z.string().min(1),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
  controller: z.boolean().optional(),
  drainSeconds: z.coerce.number().min(0).max(600).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
});
export type ServeOptions = z.infer<typeof serveOptions>;

export interface RunningServer {
  readonly url: string;
  /** Plain-HTTP Prometheus endpoint. */
  readonly metricsUrl: string;
  /**
   * Stops accepting connections; keeps answering on open ones for the drain window (each closed
   * after its reply), answers the reviews in flight, then resolves.
   */
  close(): Promise<void>;
  /** SIGHUP: re-reads the policy, the exceptions file and the serving pair. */
  reload(): void;
}

function startBesideWebhook(world: LiveWorld, logger: Logger): RunningController {
  const { caches, kubeConfig } = world;
  if (caches === undefined || kubeConfig === undefined) throw new UsageError('--controller needs a cluster: give --kubeconfig, or run in a pod');
  const controller = startController({ kubeConfig, caches, policy: world.policy, logger, identity: process.env['POD_NAME'] });
  world.onPolicyChange(() => controller.requeueAll());
  return controller;
}

export async function serve(options: ServeOptions): Promise<RunningServer> {
  const logger = createLogger(options.logLevel);
  // Waiver counts are read at scrape time, when `world` exists.
  const metrics = createMetrics({ waiverCounts: () => world.registry.countsByState(new Date(), world.policy().exceptions.warnBeforeMs) });
  const kubeConfig = clusterRequested(options) ? loadKubeConfig(options) : undefined;
  // In a cluster, waivers, Namespaces and NetworkPolicies come from caches; until they sync, /readyz says 503.
  const world = startWorld({ config: options.config, exceptions: options.exceptions, logger, kubeConfig, onReload: metrics.recordReload });
  const tls = loadOrCreateServingPair(options.certs, logger);
  const budgetMetrics = bodyBudgetMetrics(metrics.registry);
  const app = buildApp({
    logger,
    tls,
    context: () => world.context(new Date()),
    notReady: world.notReady,
    onDecision: metrics.recordDecision,
    memory: { onRefused: budgetMetrics.onRefused },
  });
  budgetMetrics.observe(app.budget);
  const certWatcher = watchServingPair(options.certs, logger, (pair) => app.server.setSecureContext(servingContextOptions(pair)));
  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : options.port;
  const url = `https://${options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host}:${boundPort}`;
  logger.info(
    { url, config: options.config, certs: options.certs, bodyLimit: BODY_LIMIT, bodyBudget: app.budget.maxBytes },
    `netguard webhook listening on ${url}`,
  );
  const metricsServer = await startMetricsServer(metrics.registry, options.metricsPort, options.host);
  logger.info({ url: metricsServer.url }, `metrics on ${metricsServer.url}`);
  // --controller: the baseline controller runs beside the webhook (leader-elected, so every replica
  // may ask), on the world's caches: one set of informers per process.
  const controller = options.controller === true ? startBesideWebhook(world, logger) : undefined;
  return {
    url,
    metricsUrl: metricsServer.url,
    reload() {
      logger.info('SIGHUP: reloading the policy, the exceptions file and the serving pair');
      world.reload();
      certWatcher.reload();
    },
    async close() {
      await controller?.stop();
      certWatcher.close();
      await app.drain.begin((options.drainSeconds ?? DRAIN_WINDOW_MS / 1000) * 1000);
      await app.close();
      await metricsServer.close();
      await world.close();
    },
  };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the admission webhook (HTTPS): POST /validate, POST /mutate, GET /healthz, GET /readyz')
    .addOption(configOption())
    .addOption(exceptionsOption())
    .option('--port <port>', 'HTTPS port for the webhook', '8443')
    .option('--metrics-port <port>', 'plain-HTTP port for /metrics', '9090')
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--certs <dir>', 'folder holding tls.crt and tls.key (generated with a local CA when missing)', 'certs')
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .option('--controller', 'also run the baseline controller (see `netguard controller`)')
    .option('--drain-seconds <s>', 'after SIGTERM, keep answering on open connections this long', String(DRAIN_WINDOW_MS / 1000))
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .action(async (raw: Record<string, unknown>) => {
      const running = await serve(parseOptions(serveOptions, raw));
      // SIGHUP's default is to exit at once, resetting every review in flight: reload instead.
      process.on('SIGHUP', () => running.reload());
      const stop = (): void => {
        running.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}
