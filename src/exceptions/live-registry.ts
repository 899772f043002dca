import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { watchParsedFile } from '../file-source.ts';
import { startExceptionCache } from './cluster-source.ts';
import { loadExceptionFile, parseExceptionFile } from './file-source.ts';
import { createRegistry, type ExceptionRegistry, type WaiverSource } from './registry.ts';

export interface LiveRegistry {
  readonly registry: ExceptionRegistry;
  /** Unmet readiness conditions (the CRD cache's first sync), for /readyz. */
  notReady(): string[];
  close(): Promise<void>;
}

export interface LiveRegistryOptions {
  readonly file: string;
  readonly logger: Logger;
  /** Set when serving in a cluster: GuardrailExceptions are then also read from the CRD. */
  readonly kubeConfig?: KubeConfig | undefined;
  readonly onFileReload?: (result: 'success' | 'failure') => void;
  readonly delay?: (ms: number) => Promise<void>;
}

/** `serve`'s registry: the watched file (a broken reload keeps the last good set) plus, in a cluster, the CRD cache. */
export function startLiveRegistry(options: LiveRegistryOptions): LiveRegistry {
  const file = watchParsedFile(loadExceptionFile(options.file), {
    path: options.file,
    what: 'exceptions',
    parse: parseExceptionFile,
    logger: options.logger,
    ...(options.onFileReload === undefined ? {} : { onReload: options.onFileReload }),
  });
  const cache =
    options.kubeConfig === undefined
      ? undefined
      : startExceptionCache({ kubeConfig: options.kubeConfig, logger: options.logger, ...(options.delay === undefined ? {} : { delay: options.delay }) });
  const sources: WaiverSource[] = cache === undefined ? [file.current] : [file.current, cache.current];
  return {
    registry: createRegistry(sources),
    notReady: () => (cache === undefined || cache.ready() ? [] : ['guardrailexceptions cache not synced']),
    async close() {
      file.close();
      await cache?.stop();
    },
  };
}
