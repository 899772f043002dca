import { CustomObjectsApi, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { startCache, type ObjectCache } from '../kube/informer.ts';
import { formatIssues } from '../zod-errors.ts';
import { waiverProblems } from './checks.ts';
import { waiverSet, type WaiverSet } from './registry.ts';
import { EXCEPTION_API_VERSION, EXCEPTION_GROUP, EXCEPTION_KIND, EXCEPTION_PLURAL, EXCEPTION_VERSION, guardrailExceptionSchema } from './schema.ts';
import { toWaiver, type Waiver } from './waiver.ts';

export const EXCEPTIONS_PATH = `/apis/${EXCEPTION_GROUP}/${EXCEPTION_VERSION}/${EXCEPTION_PLURAL}`;

type ExceptionObject = KubernetesObject & Record<string, unknown>;

const objectListSchema = z.looseObject({
  metadata: z.looseObject({ resourceVersion: z.string().optional(), continue: z.string().optional() }).optional(),
  items: z.array(z.record(z.string(), z.unknown())),
});

/** CustomObjectsApi answers with untyped JSON: the list is checked here, each item when it becomes a waiver. */
export async function listExceptions(api: CustomObjectsApi, namespace?: string): Promise<KubernetesListObject<ExceptionObject>> {
  const raw: unknown =
    namespace === undefined
      ? await api.listClusterCustomObject({ group: EXCEPTION_GROUP, version: EXCEPTION_VERSION, plural: EXCEPTION_PLURAL })
      : await api.listNamespacedCustomObject({ group: EXCEPTION_GROUP, version: EXCEPTION_VERSION, namespace, plural: EXCEPTION_PLURAL });
  const list = objectListSchema.parse(raw);
  return { metadata: list.metadata ?? {}, items: list.items };
}

/** Turns cluster objects into waivers; one that does not parse is skipped (and reported), never fatal. */
export function waiversFromObjects(objects: readonly Record<string, unknown>[], onInvalid: (object: Record<string, unknown>, problems: string[]) => void): Waiver[] {
  const waivers: Waiver[] = [];
  for (const object of objects) {
    // List items may omit apiVersion and kind; the collection says what they are.
    const parsed = guardrailExceptionSchema.safeParse({ apiVersion: EXCEPTION_API_VERSION, kind: EXCEPTION_KIND, ...object });
    if (parsed.success) waivers.push(toWaiver(parsed.data, 'cluster', waiverProblems(parsed.data, parsed.data.metadata.namespace)));
    else onInvalid(object, formatIssues(parsed.error));
  }
  return waivers;
}

export interface ExceptionCache {
  current(): WaiverSet;
  ready(): boolean;
  stop(): Promise<void>;
}

export interface ExceptionCacheOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly delay?: (ms: number) => Promise<void>;
}

/**
 * The CRD source: a list+watch cache of every GuardrailException (reconnects with backoff,
 * relists on 410 Gone). The waiver index is rebuilt lazily after a change, off the hot path of
 * reviews that see no change.
 */
export function startExceptionCache(options: ExceptionCacheOptions): ExceptionCache {
  const api = options.kubeConfig.makeApiClient(CustomObjectsApi);
  let dirty = true;
  let current = waiverSet([]);
  const cache: ObjectCache<ExceptionObject> = startCache<ExceptionObject>({
    kubeConfig: options.kubeConfig,
    path: EXCEPTIONS_PATH,
    list: () => listExceptions(api),
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
        waiversFromObjects(cache.list(), (object, problems) =>
          options.logger.warn({ name: object['metadata'], problems }, 'ignoring a GuardrailException that does not parse'),
        ),
      );
      return current;
    },
    ready: () => cache.ready(),
    stop: () => cache.stop(),
  };
}
