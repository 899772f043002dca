import type { Command } from 'commander';
import { z } from 'zod';
import { baselineFloor } from '../engine/environment.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { startController } from '../kube/controller.ts';
import { startControllerHealth } from '../controller-health.ts';
import { startWorld } from '../live-world.ts';
import { createLogger } from '../log.ts';
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
import { DURATION_HINT, parseDuration } from '../config/duration.ts';
import { withPolicyReports } from '../reports/scanner.ts';
import { runningAuditWorld } from '../audit/live.ts';

const controllerOptions = z.strictObject({
  config: z.string().min(1),
  exceptions: z.string().min(1),
  // `0` turns the PolicyReport scan off.
  policyReports: z.union([
    z.literal('0'),
    z.string().refine((text) => parseDuration(text) !== undefined, { message: DURATION_HINT }),
  ]),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
  logLevel: z.enum(LOG_LEVELS),
  metricsPort: port,
  host: z.string().min(1),
});
export type ControllerCommandOptions = z.infer<typeof controllerOptions>;

/** The replica's name in the Lease: the pod name in a cluster (POD_NAME from the downward API, else the hostname). */
function identity(): string | undefined {
  return process.env['POD_NAME'];
}

export interface RunningControllerCommand {
  /** Stops it and hands the lease back. */
  stop(): Promise<void>;
  /** Resolves once /healthz, /readyz and /metrics answer (the URL), or rejects if the port is taken. */
  readonly health: Promise<string>;
  /** SIGHUP: re-reads the policy (a good one requeues every namespace). */
  reload(): void;
}

/** `netguard controller`: runs until stopped. */
export function runController(
  options: ControllerCommandOptions,
  hooks: { readonly onWatchesDead?: () => void } = {},
): RunningControllerCommand {
  const logger = createLogger(options.logLevel);
  const kubeConfig = loadKubeConfig({ kubeconfig: options.kubeconfig, context: options.context });
  // The policy and the waivers (a namespace's floor baseline), and the caches the controller follows.
  const world = startWorld({
    config: options.config,
    exceptions: options.exceptions,
    logger,
    kubeConfig,
    dialects: false, // the controller keeps NetworkPolicy baselines: dialect objects are the webhook's
  });
  // A reloaded policy (DNS settings, exclusions) may change every namespace's baseline.
  world.onPolicyChange(() => controller.requeueAll());
  const caches = world.caches;
  if (caches === undefined) throw new Error('the controller runs in a cluster');
  const period = options.policyReports === '0' ? undefined : parseDuration(options.policyReports);
  const files = { config: options.config, exceptions: options.exceptions };
  const controller = withPolicyReports(
    (onCacheChange) =>
      startController({
        kubeConfig,
        caches,
        policy: world.policy,
        logger,
        identity: identity(),
        onCacheChange,
        baselineFloor: (namespace) => baselineFloor(namespace, world.context(new Date())),
        onWatchesDead: hooks.onWatchesDead,
      }),
    { world: runningAuditWorld(world, files), logger, periodMs: period },
  );
  const health = startControllerHealth({
    port: options.metricsPort,
    host: options.host,
    status: () => controller.status(),
    notReady: world.notReady,
  });
  logger.info(
    { config: options.config, policyReports: options.policyReports },
    'netguard baseline controller started; waiting for the caches and the lease',
  );
  return {
    health: health.then((server) => server.url),
    async stop() {
      await controller.stop();
      await world.close();
      await (await health.catch(() => undefined))?.close();
    },
    reload: () => world.reload(),
  };
}

export function registerController(program: Command): void {
  program
    .command('controller')
    .description(
      'keep the baseline NetworkPolicies of annotated namespaces (leader-elected on a Lease)',
    )
    .addOption(configOption())
    .addOption(
      exceptionsOption('GuardrailException file (applied with cluster waivers in PolicyReports)'),
    )
    .option(
      '--policy-reports <period>',
      'rescan and write PolicyReports this often, and after cluster changes; 0 turns it off',
      '10m',
    )
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .addOption(logLevelOption())
    .option('--metrics-port <port>', 'plain-HTTP port for /metrics, /healthz and /readyz', '9090')
    .option('--host <address>', 'address the metrics port binds', '0.0.0.0')
    .action((raw: Record<string, unknown>) => {
      const running = runController(parseOptions(controllerOptions, raw), {
        // Dead watches: stop (handing the lease back) and exit, so the standby takes over.
        onWatchesDead: () => exitWith(1),
      });
      running.health.catch((err: unknown) => {
        process.stderr.write(
          `netguard: --metrics-port: ${err instanceof Error ? err.message : String(err)}\n`,
        );
        exitWith(1);
      });
      // SIGHUP's default is to exit: reload instead, as `serve` does.
      process.on('SIGHUP', () => running.reload());
      function exitWith(code: number): void {
        running.stop().then(
          () => process.exit(code),
          () => process.exit(1),
        );
      }
      const exit = (): void => exitWith(0);
      process.once('SIGTERM', exit);
      process.once('SIGINT', exit);
    });
}
