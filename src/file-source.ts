import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

export interface WatchedFile<T> {
  current(): T;
  /** Re-reads the file now; a broken file keeps the last good value. */
  reload(): boolean;
  close(): void;
}

export interface WatchOptions<T> {
  readonly path: string;
  readonly what: string;
  readonly parse: (text: string, path: string) => T;
  readonly logger: Logger;
  /** Reported after every reload attempt (metrics). */
  readonly onReload?: (result: 'success' | 'failure') => void;
  readonly onChange?: (value: T) => void;
  /**
   * The value when the file does not exist. Without it a deleted file keeps the last good value;
   * with it, a deleted file means what a missing one means at start, so a replica that reloads
   * and one that restarts agree.
   */
  readonly ifMissing?: () => T;
}

const missing = (err: unknown): boolean =>
  err instanceof Error && 'code' in err && err.code === 'ENOENT';

/**
 * Holds a file's parsed value and keeps it current. The first load must succeed (the caller
 * decides what failure means at start-up); later broken versions are logged and ignored,
 * so a bad edit never turns into an empty policy.
 */
export function watchParsedFile<T>(initial: T, options: WatchOptions<T>): WatchedFile<T> {
  let value = initial;
  const { path, logger } = options;
  const reload = (): boolean => {
    try {
      let next: T;
      try {
        next = options.parse(readFileSync(path, 'utf8'), path);
      } catch (err) {
        if (options.ifMissing === undefined || !missing(err)) throw err;
        next = options.ifMissing();
        logger.warn({ file: path }, `${options.what} file is gone: read as empty, as at start`);
      }
      value = next;
      logger.info({ file: path }, `${options.what} reloaded`);
      options.onReload?.('success');
      options.onChange?.(value);
      return true;
    } catch (err) {
      logger.error(
        { err, file: path },
        `${options.what} could not be reloaded; keeping the last good version`,
      );
      options.onReload?.('failure');
      return false;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    // Watch the folder: editors and ConfigMap mounts replace the file rather than write it in place.
    watcher = watch(dirname(path), (_event, file) => {
      if (file !== null && file !== basename(path) && !file.startsWith('..')) return;
      clearTimeout(timer);
      timer = setTimeout(reload, 100);
    });
  } catch (err) {
    // A folder that does not exist is a setup fact, not a fault: one line, no stack trace.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      logger.warn(
        { file: path },
        `${options.what}: folder ${dirname(path)} does not exist, so ${path} is not read or watched (create it and restart to use it)`,
      );
    else logger.warn({ err, file: path }, `cannot watch ${options.what}; changes need a restart`);
  }
  return {
    current: () => value,
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
