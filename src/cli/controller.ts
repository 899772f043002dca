import { RULES_BY_ID } from '../rules/registry.ts';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadPolicyFile, parsePolicy } from '../config/load.ts';
import { watchParsedFile } from '../file-source.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { startClusterCache } from '../kube/cluster-cache.ts';
import { startController } from '../kube/controller.ts';
import { createLogger } from '../log.ts';
import {
  configOption,
  contextOption,
  exceptionsOption,
  kubeconfigOption,
  LOG_LEVELS,
  logLevelOption,
  parseOptions,
} from './options.ts';
import { handleSignals } from './signals.ts';
import { DURATION_HINT, parseDuration } from '../config/duration.ts';
import { kubeRest } from '../kube/rest.ts';
import { withPolicyReports } from '../reports/scanner.ts';

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
});
export type ControllerCommandOptions = z.infer<typeof controllerOptions>;

/** The replica's name in the Lease: the pod name in a cluster (POD_NAME from the downward API, else the hostname). */
function identity(): string | undefined {
  return process.env['POD_NAME'];
}

export interface RunningControllerCommand {
  /** Stops it and hands the lease back. */
  stop(): Promise<void>;
  /** SIGHUP: re-reads the policy (a good one requeues every namespace). */
  reload(): void;
}

/** `netguard controller`: runs until stopped. */
export function runController(options: ControllerCommandOptions): RunningControllerCommand {
  const logger = createLogger(options.logLevel);
  // A reloaded policy (DNS settings, exclusions) may change every namespace's baseline.
  const policy = watchParsedFile(loadPolicyFile(options.config, RULES_BY_ID), {
    path: options.config,
    what: 'policy',
    parse: (text, path) => parsePolicy(text, path, RULES_BY_ID),
    logger,
    onChange: () => controller.requeueAll(),
  });
  const kubeConfig = loadKubeConfig({ kubeconfig: options.kubeconfig, context: options.context });
  const caches = startClusterCache({ kubeConfig, logger });
  const period = options.policyReports === '0' ? undefined : parseDuration(options.policyReports);
  const files = { config: options.config, exceptions: options.exceptions };
  const controller = withPolicyReports(
    (onCacheChange) =>
      startController({
        kubeConfig,
        caches,
        policy: policy.current,
        logger,
        identity: identity(),
        onCacheChange,
      }),
    { rest: kubeRest(kubeConfig), files, logger, periodMs: period },
  );
  logger.info(
    { config: options.config, policyReports: options.policyReports },
    'netguard baseline controller started; waiting for the caches and the lease',
  );
  return {
    async stop() {
      policy.close();
      await controller.stop();
      await caches.stop();
    },
    reload: () => void policy.reload(),
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
    .action((raw: Record<string, unknown>) => {
      const running = runController(parseOptions(controllerOptions, raw));
      handleSignals({ reload: () => running.reload(), stop: () => running.stop() });
    });
}
