/**
 * `serve`'s live world: the files watched and, in a cluster, the GuardrailException, Namespace and
 * NetworkPolicy caches. The only world that loads the cluster client; one-shot commands take the
 * offline one (world.ts).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { loadPolicyFile, parsePolicy } from './config/load.ts';
import { EMPTY_CLUSTER } from './engine/cluster-view.ts';
import { loadExceptionFile, parseExceptionFile } from './exceptions/file-source.ts';
import { createRegistry, waiverSet, type WaiverSource } from './exceptions/registry.ts';
import { watchParsedFile } from './file-source.ts';
import { startClusterCache, type ClusterCache } from './kube/cluster-cache.ts';
import { startExceptionCache } from './kube/exception-source.ts';
import { GUARDRAILS_BY_ID } from './rules/guardrails.ts';
import { RULES_BY_ID } from './rules/registry.ts';
import { worldOf, type World, type WorldFiles } from './world.ts';

export interface LiveWorldOptions extends WorldFiles {
  readonly logger: Logger;
  /** Set in a cluster: GuardrailExceptions, Namespaces and NetworkPolicies then come from caches. */
  readonly kubeConfig?: KubeConfig | undefined;
  readonly onReload?: (file: 'policy' | 'exceptions', result: 'success' | 'failure') => void;
  /** Injectable backoff for the caches, so tests never sleep. */
  readonly delay?: (ms: number) => Promise<void>;
  /** Follow dialect policies and sets (the webhook judges with them); the controller does not. */
  readonly dialects?: boolean;
}

export interface LiveWorld extends World {
  /** The cluster caches, when serving in a cluster. */
  readonly caches: ClusterCache | undefined;
  /** The cluster they follow (the controller writes through it). */
  readonly kubeConfig: KubeConfig | undefined;
  /** Unmet readiness conditions (each cache's first sync), for /readyz. */
  notReady(): string[];
  /** Re-reads both files now (SIGHUP); a broken file keeps its last good version. */
  reload(): void;
  /** Called after every successful policy reload (the controller requeues every namespace). */
  onPolicyChange(listener: () => void): void;
  close(): Promise<void>;
}

/**
 * `serve`'s world: both files watched (a broken reload keeps the last good version) and, in a
 * cluster, the GuardrailException, Namespace and NetworkPolicy caches.
 */
export function startWorld(options: LiveWorldOptions): LiveWorld {
  const { logger, kubeConfig } = options;
  const delay = options.delay === undefined ? {} : { delay: options.delay };
  const policyListeners: (() => void)[] = [];
  const policy = watchParsedFile(loadPolicyFile(options.config, RULES_BY_ID), {
    path: options.config,
    what: 'policy',
    parse: (text, path) => parsePolicy(text, path, RULES_BY_ID),
    logger,
    onReload: (result) => options.onReload?.('policy', result),
    onChange: () => {
      for (const listener of policyListeners) listener();
    },
  });
  const file = watchParsedFile(loadExceptionFile(options.exceptions, GUARDRAILS_BY_ID), {
    path: options.exceptions,
    what: 'exceptions',
    parse: (text, path) => parseExceptionFile(text, path, GUARDRAILS_BY_ID),
    logger,
    onReload: (result) => options.onReload?.('exceptions', result),
    // A deleted exceptions file waives nothing, as a missing one does at start (loadExceptionFile).
    ifMissing: () => waiverSet([]),
  });
  const crd =
    kubeConfig === undefined
      ? undefined
      : startExceptionCache({ guardrails: GUARDRAILS_BY_ID, kubeConfig, logger, ...delay });
  const caches =
    kubeConfig === undefined
      ? undefined
      : startClusterCache({ kubeConfig, logger, ...delay, dialects: options.dialects !== false });
  const sources: WaiverSource[] = crd === undefined ? [file.current] : [file.current, crd.current];
  const world = worldOf(policy.current, createRegistry(sources), caches?.view ?? EMPTY_CLUSTER);
  return {
    ...world,
    caches,
    kubeConfig,
    notReady: () => [
      ...(caches?.notReady() ?? []),
      ...(crd === undefined || crd.ready() ? [] : ['guardrailexceptions cache not synced']),
    ],
    reload() {
      policy.reload();
      file.reload();
    },
    onPolicyChange: (listener) => void policyListeners.push(listener),
    async close() {
      policy.close();
      file.close();
      await Promise.all([crd?.stop(), caches?.stop()]);
    },
  };
}
