import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { startCache, type ObjectCache, type CachedObject } from './informer.ts';
import { kubeRest, listAll, type KubeRest } from './rest.ts';
import type { KubeObject } from '../vocabulary.ts';
import type { ClusterExceptionSource } from '../exceptions/cluster-source.ts';
import type { WaivableRules } from '../exceptions/scope-checks.ts';
import { waiverSet, type WaiverSet } from '../exceptions/registry.ts';
import { exceptionsPath } from '../model/guardrail-exception.ts';

/** Every GuardrailException, cluster-wide (the cache's list and watch). */
export const EXCEPTIONS_PATH = exceptionsPath();

/** Every GuardrailException, or those of one namespace, page by page; each item is checked when it becomes a waiver. */
export function listExceptions(rest: KubeRest, namespace?: string): Promise<KubeObject[]> {
  return listAll(rest, exceptionsPath(namespace));
}

/** A cluster source's objects, in one namespace or every one, listed once (page by page) for one-shot commands. */
export function listSource(
  rest: KubeRest,
  source: ClusterExceptionSource,
  namespace?: string,
): Promise<KubeObject[]> {
  return listAll(rest, source.path(namespace));
}

export interface ExceptionCache {
  /** What readiness calls it (the source's `what`). */
  readonly what: string;
  current(): WaiverSet;
  ready(): boolean;
  stop(): Promise<void>;
}

export interface ExceptionCacheOptions {
  /** The source it follows (exceptions/sources.ts's `CLUSTER_SOURCES`). */
  readonly source: ClusterExceptionSource;
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** The rules a waiver may name (EX003), handed in. */
  readonly guardrails: WaivableRules;
  readonly delay?: (ms: number) => Promise<void>;
}

/**
 * A cluster source followed: a list+watch cache of every object of its collection (reconnects
 * with backoff, relists on 410 Gone). The waiver index is rebuilt lazily after a change, off the
 * hot path of reviews that see no change.
 */
export function startExceptionCache(options: ExceptionCacheOptions): ExceptionCache {
  const { source } = options;
  let dirty = true;
  let current = waiverSet([]);
  const cache: ObjectCache<CachedObject> = startCache({
    kubeConfig: options.kubeConfig,
    rest: kubeRest(options.kubeConfig),
    path: source.path(),
    what: source.what,
    logger: options.logger,
    onEvent: () => {
      dirty = true;
    },
    ...(options.delay === undefined ? {} : { delay: options.delay }),
  });
  return {
    what: source.what,
    current() {
      if (!dirty) return current;
      dirty = false;
      current = waiverSet(
        source.waivers(
          cache.list(),
          (object, problems) =>
            options.logger.warn(
              { name: object['metadata'], problems },
              `ignoring a ${source.apiObject?.kind ?? source.what} that does not parse`,
            ),
          options.guardrails,
        ),
      );
      return current;
    },
    ready: () => cache.ready(),
    stop: () => cache.stop(),
  };
}
