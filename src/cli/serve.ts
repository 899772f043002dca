import { CliError, UsageError } from '../errors.ts';
import type { Command } from 'commander';
import { z } from 'zod';
import { clusterRequested, loadKubeConfig } from '../kube/client.ts';
import type { Logger } from 'pino';
import { startCertRotation } from '../certs/rotation.ts';
import { startExpiryEvents } from '../kube/expiry-events.ts';
import { ownNamespace } from '../kube/client.ts';
import { registerControllerMetrics } from '../controller-health.ts';
import { baselineFloor } from '../engine/environment.ts';
import { startController, type RunningController } from '../kube/controller.ts';
import { kubeRest } from '../kube/rest.ts';
import { createLogger } from '../log.ts';
import { createMetrics, startMetricsServer } from '../metrics.ts';
import { withPolicyReports } from '../reports/scanner.ts';
import { runningAuditWorld } from '../audit/live.ts';
import { AUDIT_LOG_LEVELS, buildApp, DEFAULT_AUDIT_LOG } from '../server/app.ts';
import {
  BODY_LIMIT,
  bodyBudgetMetrics,
  heapFitsLargestBody,
  oldSpaceLimit,
} from '../server/body-budget.ts';
import { DRAIN_WINDOW_MS } from '../server/drain.ts';
import { loadOrCreateServingPair, servingContextOptions, watchServingPair } from '../server/tls.ts';
import { startWorld, type LiveWorld } from '../live-world.ts';
import { describeClusterRanges, OFFLINE_RANGES } from '../cluster-ranges.ts';
import { WEBHOOK_CONFIGURATION_NAME } from './certs.ts';
import {
  configOption,
  contextOption,
  exceptionsOption,
  kubeconfigOption,
  LOG_LEVELS,
  logLevelOption,
  parseOptions,
  port,
} from './options.ts';

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
  certsSecret: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, { message: 'expected a Secret name' })
    .optional(),
  service: z.string().min(1).optional(),
  drainSeconds: z.coerce.number().min(0).max(600).optional(),
  logLevel: z.enum(LOG_LEVELS),
  auditLog: z.enum(AUDIT_LOG_LEVELS).optional(),
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
  /** Says, in the log, that a signal asked it to stop and what happens next. */
  stopping(signal: string): void;
}

/** Where NP005's pod and service ranges come from, for /readyz. */
function clusterCidrDetail(world: LiveWorld): string {
  const np = world.policy().networkPolicies;
  if (!np.clusterCIDRsAuto) return `clusterCIDRs ${np.clusterCIDRs.join(', ')} (from the policy)`;
  return world.caches?.rangesDetail() ?? describeClusterRanges(OFFLINE_RANGES);
}

function startBesideWebhook(
  world: LiveWorld,
  logger: Logger,
  onCacheChange: () => void,
): RunningController {
  const { caches, kubeConfig } = world;
  if (caches === undefined || kubeConfig === undefined)
    throw new UsageError('--controller needs a cluster: give --kubeconfig, or run in a pod');
  const controller = startController({
    kubeConfig,
    caches,
    policy: world.policy,
    logger,
    identity: process.env['POD_NAME'],
    onCacheChange,
    baselineFloor: (namespace) => baselineFloor(namespace, world.context(new Date())),
  });
  world.onPolicyChange(() => controller.requeueAll());
  return controller;
}

/** A port that cannot be bound is one line and an exit, never a stack trace and a process left hanging. */
async function listening<T>(
  listen: () => Promise<T>,
  flag: string,
  release: () => Promise<void>,
): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    await release().catch(() => undefined);
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    const why =
      code === 'EADDRINUSE'
        ? 'address already in use (is another netguard running?)'
        : code === 'EACCES'
          ? 'permission denied (ports below 1024 need privileges)'
          : err instanceof Error
            ? err.message
            : String(err);
    throw new CliError(`${flag}: cannot listen: ${why}`);
  }
}

function requireCluster<T>(kubeConfig: T | undefined, flag: string): T {
  if (kubeConfig === undefined)
    throw new UsageError(`${flag} needs a cluster: run in one, or pass --kubeconfig`);
  return kubeConfig;
}

export async function serve(options: ServeOptions): Promise<RunningServer> {
  const logger = createLogger(options.logLevel);
  // Waiver counts are read at scrape time, when `world` exists.
  const metrics = createMetrics({
    waiverCounts: () =>
      world.registry.countsByState(new Date(), world.policy().exceptions.warnBeforeMs),
    waivers: () => world.registry.all(),
  });
  const kubeConfig = clusterRequested(options) ? loadKubeConfig(options) : undefined;
  // --certs-secret: certificates managed in the cluster (src/certs/rotation.ts); otherwise files in --certs.
  let app: ReturnType<typeof buildApp> | undefined;
  const managed =
    options.certsSecret === undefined
      ? undefined
      : await startCertRotation({
          rest: kubeRest(requireCluster(kubeConfig, '--certs-secret')),
          identity: {
            namespace: ownNamespace(),
            secret: options.certsSecret,
            service: options.service ?? 'netguard',
            webhookConfiguration: WEBHOOK_CONFIGURATION_NAME,
          },
          logger,
          onRenewed: (pair) => app?.server.setSecureContext(servingContextOptions(pair)),
        });
  // In a cluster, waivers, Namespaces and NetworkPolicies come from caches; until they sync, /readyz says 503.
  const world = startWorld({
    config: options.config,
    exceptions: options.exceptions,
    logger,
    kubeConfig,
    onReload: metrics.recordReload,
  });
  const cluster = kubeConfig?.getCurrentCluster()?.server;
  void world.caches
    ?.synced()
    .then(() =>
      logger.info(
        { cluster },
        `connected to the cluster at ${cluster ?? 'in-cluster'}: caches synced`,
      ),
    );
  const tls = managed?.current() ?? loadOrCreateServingPair(options.certs, logger);
  const budgetMetrics = bodyBudgetMetrics(metrics.registry);
  app = buildApp({
    logger,
    tls,
    context: () => world.context(new Date()),
    notReady: world.notReady,
    readyDetail: () => ({ clusterCIDRs: clusterCidrDetail(world) }),
    onDecision: metrics.recordDecision,
    memory: { onRefused: budgetMetrics.onRefused },
    ...(options.auditLog === undefined ? {} : { auditLog: options.auditLog }),
  });
  const served = app;
  budgetMetrics.observe(served.budget);
  // Every serving context, rotated or not, carries the same TLS versions and suites.
  const certWatcher =
    managed === undefined
      ? watchServingPair(options.certs, logger, (pair) =>
          served.server.setSecureContext(servingContextOptions(pair)),
        )
      : undefined;
  const release = async (): Promise<void> => {
    certWatcher?.close();
    managed?.stop();
    await served.close();
    await world.close();
  };
  await listening(
    () => served.listen({ port: options.port, host: options.host }),
    `--port ${options.port}`,
    release,
  );
  const address = served.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : options.port;
  const url = `https://${options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host}:${boundPort}`;
  logger.info(
    {
      url,
      config: options.config,
      certs: options.certs,
      bodyLimit: BODY_LIMIT,
      bodyBudget: served.budget.maxBytes,
    },
    `netguard webhook listening on ${url}`,
  );
  if (!heapFitsLargestBody())
    logger.warn(
      { oldSpace: oldSpaceLimit(), bodyLimit: BODY_LIMIT },
      'the V8 old space is too small for one largest hostile review; run with --max-old-space-size=256 or more (docs/install.md)',
    );
  const metricsServer = await listening(
    () => startMetricsServer(metrics.registry, options.metricsPort, options.host),
    `--metrics-port ${options.metricsPort}`,
    release,
  );
  logger.info({ url: metricsServer.url }, `metrics on ${metricsServer.url}`);
  // In a cluster: Events before and at each waiver's expiry, on the waiver and its target (never on the request path).
  const expiry =
    world.rest === undefined
      ? undefined
      : startExpiryEvents({
          rest: world.rest,
          waivers: () => world.registry.all(),
          warnBeforeMs: () => world.policy().exceptions.warnBeforeMs,
          now: () => new Date(),
          logger,
          policy: world.policy,
        });
  // --controller: the baseline controller runs beside the webhook (leader-elected, so every replica
  // may ask), on the world's caches: one set of informers per process. PolicyReports are rescanned
  // every 10 minutes and after changes (docs/policy-reports.md).
  if (options.controller === true) requireCluster(world.rest, '--controller');
  const controller =
    options.controller === true
      ? withPolicyReports((onCacheChange) => startBesideWebhook(world, logger, onCacheChange), {
          world: runningAuditWorld(world, options),
          logger,
          periodMs: 600_000,
        })
      : undefined;
  if (controller !== undefined)
    registerControllerMetrics(metrics.registry, () => controller.status());
  const drainSeconds = options.drainSeconds ?? DRAIN_WINDOW_MS / 1000;
  return {
    url,
    metricsUrl: metricsServer.url,
    stopping(signal) {
      logger.info(
        { signal, drainSeconds },
        `${signal}: no new connections; answering open ones for ${drainSeconds}s, then stopping`,
      );
    },
    reload() {
      logger.info('SIGHUP: reloading the policy, the exceptions file and the serving pair');
      world.reload();
      certWatcher?.reload();
    },
    async close() {
      expiry?.stop();
      await controller?.stop();
      certWatcher?.close();
      managed?.stop();
      await served.drain.begin(drainSeconds * 1000);
      await served.close();
      await metricsServer.close();
      await world.close();
      logger.info('netguard stopped');
    },
  };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run the admission webhook (HTTPS): POST /validate, POST /mutate, GET /healthz, GET /readyz',
    )
    .addOption(configOption())
    .addOption(exceptionsOption())
    .option('--port <port>', 'HTTPS port for the webhook', '8443')
    .option('--metrics-port <port>', 'plain-HTTP port for /metrics', '9090')
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option(
      '--certs <dir>',
      'folder holding tls.crt and tls.key (generated with a local CA when missing)',
      'certs',
    )
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .option('--controller', 'also run the baseline controller (see `netguard controller`)')
    .option(
      '--certs-secret <name>',
      "manage the CA and serving certificate in this Secret of the pod's namespace and inject the caBundle (in a cluster)",
    )
    .option(
      '--service <name>',
      'the webhook Service, for the certificate names (with --certs-secret; default netguard)',
    )
    .option(
      '--drain-seconds <s>',
      'after SIGTERM, keep answering on open connections this long',
      String(DRAIN_WINDOW_MS / 1000),
    )
    .addOption(logLevelOption())
    .option(
      '--audit-log <which>',
      'decisions that get an audit line: all, findings (any finding, denial, patch or warning), denied or none',
      DEFAULT_AUDIT_LOG,
    )
    .action(async (raw: Record<string, unknown>) => {
      const running = await serve(parseOptions(serveOptions, raw));
      // SIGHUP's default is to exit at once, resetting every review in flight: reload instead.
      process.on('SIGHUP', () => running.reload());
      const stop = (signal: string): void => {
        running.stopping(signal);
        running.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
