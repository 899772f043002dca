/**
 * The controller's queue of namespace names: each name at most once, handed out only while
 * `ready()` holds (leading, caches synced), with per-name exponential backoff for failures.
 */
export interface WorkQueue {
  add(key: string): void;
  /** The next key once one is queued and the queue is ready; undefined once stopped. */
  next(): Promise<string | undefined>;
  /** Re-checks `ready()` now (leadership or sync changed). */
  poke(): void;
  /** A failed key comes back after its backoff; returns the wait in ms. */
  retryLater(key: string): number;
  /** A key that succeeded starts its backoff afresh. */
  forget(key: string): void;
  /** Keys waiting now (a metric). */
  depth(): number;
  stop(): void;
}

export interface WorkQueueOptions {
  readonly ready: () => boolean;
  readonly delay: (ms: number) => Promise<void>;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export function workQueue(options: WorkQueueOptions): WorkQueue {
  const pending = new Set<string>();
  const failures = new Map<string, number>();
  let stopped = false;
  let wake: () => void = () => undefined;

  const add = (key: string): void => {
    if (key === '' || stopped) return;
    pending.add(key);
    wake();
  };
  return {
    add,
    async next() {
      while (!stopped) {
        const [first] = pending;
        if (first !== undefined && options.ready()) {
          pending.delete(first);
          return first;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return undefined;
    },
    poke: () => wake(),
    retryLater(key) {
      const failed = (failures.get(key) ?? 0) + 1;
      failures.set(key, failed);
      const wait = Math.min(options.initialBackoffMs * 2 ** (failed - 1), options.maxBackoffMs);
      void options.delay(wait).then(() => add(key));
      return wait;
    },
    forget: (key) => void failures.delete(key),
    depth: () => pending.size,
    stop() {
      stopped = true;
      wake();
    },
  };
}
