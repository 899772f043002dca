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
import { createRegistry, waiverSet, type WaiverSet } from './exceptions/registry.ts';
import { CLUSTER_SOURCES } from './exceptions/sources.ts';
import { watchParsedFile } from './file-source.ts';
import { startClusterCache, type ClusterCache } from './kube/cluster-cache.ts';
import { listSource, startExceptionCache } from './kube/exception-source.ts';
import { kubeRest, type KubeRest } from './kube/rest.ts';
import { GUARDRAILS_BY_ID } from './rules/guardrails.ts';
import { RULES_BY_ID } from './rules/registry.ts';
import { worldOf, type ListedSource, type World, type WorldFiles } from './world.ts';

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
  /** The world's one raw-JSON client of that cluster (paged listings, PolicyReports, Events). */
  readonly rest: KubeRest | undefined;
  /** Unmet readiness conditions (each cache's first sync), for /readyz. */
  notReady(): string[];
  /** Re-reads both files now (SIGHUP); a broken file keeps its last good version. */
  reload(): void;
  /** Called after every successful policy reload (the controller requeues every namespace). */
  onPolicyChange(listener: () => void): void;
  close(): Promise<void>;
}

/** One waiver source as the live world holds it: its current set, its readiness, its end. */
interface LiveSource {
  current(): WaiverSet;
  notReady(): string[];
  reload(): void;
  close(): Promise<void> | void;
}

/**
 * `serve`'s world: both files watched (a broken reload keeps the last good version) and, in a
 * cluster, a cache for each of `CLUSTER_SOURCES` (GuardrailExceptions) and the Namespace and
 * NetworkPolicy caches.
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
  // The waiver sources, in the registry's order: the file, then each cluster source's cache.
  const sources: LiveSource[] = [
    { current: file.current, notReady: () => [], reload: file.reload, close: file.close },
    ...(kubeConfig === undefined
      ? []
      : CLUSTER_SOURCES.map((source): LiveSource => {
          const cache = startExceptionCache({
            source,
            guardrails: GUARDRAILS_BY_ID,
            kubeConfig,
            logger,
            ...delay,
          });
          return {
            current: cache.current,
            notReady: () => (cache.ready() ? [] : [`${cache.what} cache not synced`]),
            reload: () => {},
            close: cache.stop,
          };
        })),
  ];
  const caches =
    kubeConfig === undefined
      ? undefined
      : startClusterCache({ kubeConfig, logger, ...delay, dialects: options.dialects !== false });
  const world = worldOf(
    policy.current,
    createRegistry(sources.map((source) => source.current)),
    caches?.view ?? EMPTY_CLUSTER,
  );
  return {
    ...world,
    caches,
    kubeConfig,
    rest: kubeConfig === undefined ? undefined : kubeRest(kubeConfig),
    notReady: () => [
      ...(caches?.notReady() ?? []),
      ...sources.flatMap((source) => source.notReady()),
    ],
    reload() {
      policy.reload();
      for (const source of sources) source.reload();
    },
    onPolicyChange: (listener) => void policyListeners.push(listener),
    async close() {
      policy.close();
      await Promise.all([...sources.map((source) => source.close()), caches?.stop()]);
    },
  };
}

/**
 * Each cluster source listed once, in one namespace or every one, for a one-shot command that
 * reads the cluster's waivers (`exception list --cluster`); the offline world parses them.
 */
export async function listClusterSources(
  kubeConfig: KubeConfig,
  namespace: string | undefined,
): Promise<ListedSource[]> {
  const rest = kubeRest(kubeConfig);
  const listed: ListedSource[] = [];
  for (const source of CLUSTER_SOURCES)
    listed.push({ source, objects: await listSource(rest, source, namespace) });
  return listed;
}
