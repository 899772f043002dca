import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { KubeRest } from './rest.ts';
import { sleep } from './sleep.ts';
import { slimObject } from './slim.ts';

/**
 * Objects as the API server sends them, raw JSON (client-node's models rename `from` to `_from`,
 * which the rules would not see); only the metadata the cache keys on is checked.
 */
const cachedObjectSchema = z.looseObject({
  metadata: z
    .looseObject({
      name: z.string().optional(),
      namespace: z.string().optional(),
      resourceVersion: z.string().optional(),
    })
    .optional(),
});
export type CachedObject = z.infer<typeof cachedObjectSchema>;

/** An informer behind the small interface the rest of netguard reads: get, list, ready. */
export interface ObjectCache<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
  /** True once the first list has been loaded; stays true across reconnects (the cache keeps serving). */
  ready(): boolean;
  /** Resolves at the first sync (at once when already synced). */
  synced(): Promise<void>;
  /** When the watch last showed it is alive (an event, a bookmark, or a relist), in epoch ms. */
  lastActivity(): number;
  stop(): Promise<void>;
}

export type CacheEvent = 'add' | 'update' | 'delete';

export interface CacheOptions {
  readonly kubeConfig: KubeConfig;
  /** Lists through the raw-JSON client; the watch goes through client-node's Watch. */
  readonly rest: KubeRest;
  /** Collection path, e.g. `/api/v1/namespaces`. */
  readonly path: string;
  readonly what: string;
  readonly logger: Logger;
  readonly onEvent?: (event: CacheEvent, object: CachedObject) => void;
  /**
   * Top-level fields kept besides apiVersion, kind and metadata (default: every one). Objects
   * are slimmed as they arrive, listed or watched (slimObject): managedFields and annotations
   * other than netguard's never stay in memory.
   */
  readonly fields?: readonly string[];
  /** A further cut after slimming (a NetworkSet keeps only its nets); also stamps kind and apiVersion. */
  readonly shape?: (object: CachedObject) => CachedObject;
  /** Injectable so tests do not sleep. */
  readonly delay?: (ms: number) => Promise<void>;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Injectable clock for lastActivity(). */
  readonly now?: () => number;
}

/** The list function ListWatch wants, over the raw-JSON client. */
function rawList(
  rest: KubeRest,
  path: string,
  slim: (object: CachedObject) => CachedObject,
): () => Promise<KubernetesListObject<CachedObject>> {
  return async () => {
    // Each item is slimmed as it arrives, so the listing is never held whole.
    const list = await rest.list(path, { keep: (item) => slim(cachedObjectSchema.parse(item)) });
    return {
      apiVersion: 'v1',
      kind: 'List',
      metadata: { resourceVersion: list.resourceVersion },
      items: list.items,
    };
  };
}

/** Watch events carry objects to slim; ERROR carries a Status whose code ListWatch reads. */
const WATCHED_OBJECTS: ReadonlySet<string> = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/**
 * Starts a list+watch cache. When the API server is unreachable or answers with an error,
 * it retries with exponential backoff (1 s doubling to 30 s by default); a 410 Gone relists.
 */
export function startCache(options: CacheOptions): ObjectCache<CachedObject> {
  const delay = options.delay ?? sleep;
  const shape = options.shape ?? ((object: CachedObject) => object);
  const slim = (object: CachedObject): CachedObject =>
    shape(cachedObjectSchema.parse(slimObject(object, options.fields)));
  const listOnce = rawList(options.rest, options.path, slim);
  // ListWatch restarts itself after a 410 or a timeout; a restart already past its `stopped` check
  // when stop() runs would open a watch nobody aborts, held until its 30 s inactivity timeout. So
  // a list that returns after stop() fails, and a watch that opens after stop() is aborted at once.
  const now = options.now ?? Date.now;
  let active = now();
  const list = async (): Promise<Awaited<ReturnType<typeof listOnce>>> => {
    const result = await listOnce();
    if (stopped) throw new Error(`${options.what} cache stopped`);
    active = now();
    return result;
  };
  const watch = new Watch(options.kubeConfig);
  const watchOnce = watch.watch.bind(watch);
  // Bookmarks prove a quiet watch alive; every event (bookmarks included) counts as activity.
  // Objects are slimmed to what rules read as they arrive (managedFields and annotations dropped).
  watch.watch = async (path, query, callback, done) => {
    const slimmed = (phase: string, object: unknown, raw: unknown): void => {
      active = now();
      const parsed = WATCHED_OBJECTS.has(phase) ? cachedObjectSchema.safeParse(object) : undefined;
      callback(phase, parsed?.success === true ? slim(parsed.data) : object, raw);
    };
    const request = await watchOnce(path, { ...query, allowWatchBookmarks: true }, slimmed, done);
    if (stopped) request.abort();
    return request;
  };
  // ListWatch directly (not makeInformer) so its own reconnect delays use the injected clock too.
  const informer = new ListWatch<CachedObject>(
    options.path,
    watch,
    list,
    false,
    undefined,
    undefined,
    {
      delayFn: delay,
    },
  );
  const initial = options.initialBackoffMs ?? 1_000;
  const max = options.maxBackoffMs ?? 30_000;
  let backoff = initial;
  let synced = false;
  let stopped = false;
  // Attempts overlap when a retry starts before the failed one returns: only the latest, unfailed one counts.
  let attempt = 0;
  let failedAttempt = -1;
  let markSynced: () => void = () => undefined;
  const firstSync = new Promise<void>((resolve) => (markSynced = resolve));

  for (const event of ['add', 'update', 'delete'] as const) {
    informer.on(event, (object: CachedObject) => options.onEvent?.(event, object));
  }

  const start = async (): Promise<void> => {
    const mine = ++attempt;
    await informer.start();
    if (failedAttempt !== mine && attempt === mine && !stopped) {
      synced = true;
      backoff = initial;
      markSynced();
    }
  };

  informer.on('error', (err?: unknown) => {
    failedAttempt = attempt;
    if (stopped) return;
    options.logger.warn(
      { err, what: options.what, retryInMs: backoff },
      `${options.what} watch failed; retrying`,
    );
    const wait = backoff;
    backoff = Math.min(backoff * 2, max);
    void delay(wait).then(() => (stopped ? undefined : start()));
  });

  void start();
  return {
    get: (name, namespace) => informer.get(name, namespace),
    list: (namespace) => informer.list(namespace),
    ready: () => synced,
    synced: () => firstSync,
    lastActivity: () => active,
    async stop() {
      stopped = true;
      await informer.stop();
    },
  };
}
