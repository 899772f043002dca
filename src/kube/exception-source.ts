import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { exceptionsPath } from './exception-writes.ts';
import { startCache, type ObjectCache, type CachedObject } from './informer.ts';
import { kubeRest, listAll, type KubeRest } from './rest.ts';
import type { KubeObject } from '../vocabulary.ts';
import { waiversFromObjects } from '../exceptions/object-source.ts';
import type { WaivableRules } from '../exceptions/scope-checks.ts';
import { waiverSet, type WaiverSet } from '../exceptions/registry.ts';
import {
  EXCEPTION_GROUP,
  EXCEPTION_PLURAL,
  EXCEPTION_VERSION,
} from '../model/guardrail-exception.ts';

export const EXCEPTIONS_PATH = `/apis/${EXCEPTION_GROUP}/${EXCEPTION_VERSION}/${EXCEPTION_PLURAL}`;

/** The collection path of GuardrailExceptions in one namespace (POST creates there). */

/** Every GuardrailException, or those of one namespace, page by page; each item is checked when it becomes a waiver. */
export function listExceptions(rest: KubeRest, namespace?: string): Promise<KubeObject[]> {
  return listAll(rest, namespace === undefined ? EXCEPTIONS_PATH : exceptionsPath(namespace));
}

export interface ExceptionCache {
  current(): WaiverSet;
  ready(): boolean;
  stop(): Promise<void>;
}

export interface ExceptionCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  /** The rules a waiver may name (EX003), handed in. */
  readonly guardrails: WaivableRules;
  readonly delay?: (ms: number) => Promise<void>;
}

/**
 * The CRD source: a list+watch cache of every GuardrailException (reconnects with backoff,
 * relists on 410 Gone). The waiver index is rebuilt lazily after a change, off the hot path of
 * reviews that see no change.
 */
export function startExceptionCache(options: ExceptionCacheOptions): ExceptionCache {
  let dirty = true;
  let current = waiverSet([]);
  const cache: ObjectCache<CachedObject> = startCache({
    kubeConfig: options.kubeConfig,
    rest: kubeRest(options.kubeConfig),
    path: EXCEPTIONS_PATH,
    what: 'guardrailexceptions',
    logger: options.logger,
    onEvent: () => {
      dirty = true;
    },
    ...(options.delay === undefined ? {} : { delay: options.delay }),
  });
  return {
    current() {
      if (!dirty) return current;
      dirty = false;
      current = waiverSet(
        waiversFromObjects(
          cache.list(),
          (object, problems) =>
            options.logger.warn(
              { name: object['metadata'], problems },
              'ignoring a GuardrailException that does not parse',
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
