import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';

/** An informer behind the small interface the rest of netguard reads: get, list, ready. */
export interface ObjectCache<T> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
  /** True once the first list has been loaded; stays true across reconnects (the cache keeps serving). */
  ready(): boolean;
  stop(): Promise<void>;
}

export type CacheEvent = 'add' | 'update' | 'delete';

export interface CacheOptions<T extends KubernetesObject> {
  readonly kubeConfig: KubeConfig;
  /** Watch path, e.g. `/api/v1/namespaces`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly what: string;
  readonly logger: Logger;
  readonly onEvent?: (event: CacheEvent, object: T) => void;
  /** Injectable so tests do not sleep. */
  readonly delay?: (ms: number) => Promise<void>;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Starts a list+watch cache. When the API server is unreachable or answers with an error,
 * it retries with exponential backoff (1 s doubling to 30 s by default); a 410 Gone relists.
 */
export function startCache<T extends KubernetesObject>(options: CacheOptions<T>): ObjectCache<T> {
  const delay = options.delay ?? sleep;
  // ListWatch directly (not makeInformer) so its own reconnect delays use the injected clock too.
  const informer = new ListWatch<T>(options.path, new Watch(options.kubeConfig), options.list, false, undefined, undefined, {
    delayFn: delay,
  });
  const initial = options.initialBackoffMs ?? 1_000;
  const max = options.maxBackoffMs ?? 30_000;
  let backoff = initial;
  let synced = false;
  let stopped = false;
  // Attempts overlap when a retry starts before the failed one returns: only the latest, unfailed one counts.
  let attempt = 0;
  let failedAttempt = -1;

  for (const event of ['add', 'update', 'delete'] as const) {
    informer.on(event, (object: T) => options.onEvent?.(event, object));
  }

  const start = async (): Promise<void> => {
    const mine = ++attempt;
    await informer.start();
    if (failedAttempt !== mine && attempt === mine && !stopped) {
      synced = true;
      backoff = initial;
    }
  };

  informer.on('error', (err?: unknown) => {
    failedAttempt = attempt;
    if (stopped) return;
    options.logger.warn({ err, what: options.what, retryInMs: backoff }, `${options.what} watch failed; retrying`);
    const wait = backoff;
    backoff = Math.min(backoff * 2, max);
    void delay(wait).then(() => (stopped ? undefined : start()));
  });

  void start();
  return {
    get: (name, namespace) => informer.get(name, namespace),
    list: (namespace) => informer.list(namespace),
    ready: () => synced,
    async stop() {
      stopped = true;
      await informer.stop();
    },
  };
}
