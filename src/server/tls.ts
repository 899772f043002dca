import { existsSync, mkdirSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { createCA, createServingCert, LOCAL_IDENTITY } from '../certs/generate.ts';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface ServingPair {
  readonly cert: string;
  readonly key: string;
}

export function tlsFilesIn(dir: string): TlsFiles {
  return { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
}

/** Writes ca.crt, ca.key, tls.crt and tls.key into `dir`; keys are readable by the owner only. */
export function writeLocalCertificates(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const ca = createCA('netguard local CA');
  const serving = createServingCert(ca, LOCAL_IDENTITY);
  writeFileSync(join(dir, 'ca.crt'), ca.cert);
  writeFileSync(join(dir, 'ca.key'), ca.key, { mode: 0o600 });
  writeFileSync(join(dir, 'tls.crt'), serving.cert);
  writeFileSync(join(dir, 'tls.key'), serving.key, { mode: 0o600 });
}

/** Reads the serving pair, first generating a local CA and pair when none exists. */
export function loadOrCreateServingPair(dir: string, logger: Logger): ServingPair {
  const files = tlsFilesIn(dir);
  if (!existsSync(files.certFile) || !existsSync(files.keyFile)) {
    writeLocalCertificates(dir);
    logger.warn(
      { dir, ca: join(dir, 'ca.crt') },
      `no serving certificate found: generated a local CA (${join(dir, 'ca.crt')}) and a serving pair for localhost and 127.0.0.1 in ${dir}`,
    );
  }
  return readServingPair(files);
}

export function readServingPair(files: TlsFiles): ServingPair {
  return { cert: readFileSync(files.certFile, 'utf8'), key: readFileSync(files.keyFile, 'utf8') };
}

/**
 * Watches the folder holding the pair (a Secret mount swaps a symlink, so the folder is
 * what changes) and hands a new, verified pair to `apply`. A half-written or mismatched
 * pair is logged and skipped; the old one keeps serving.
 */
export function watchServingPair(dir: string, logger: Logger, apply: (pair: ServingPair) => void): FSWatcher {
  const files = tlsFilesIn(dir);
  let timer: NodeJS.Timeout | undefined;
  const reload = (): void => {
    try {
      const pair = readServingPair(files);
      createSecureContext(pair); // throws when the key does not match the certificate
      apply(pair);
      logger.info({ dir }, 'serving certificate reloaded');
    } catch (err) {
      logger.warn({ err, dir }, 'serving certificate changed but could not be loaded; keeping the previous one');
    }
  };
  const watcher = watch(dir, () => {
    clearTimeout(timer);
    timer = setTimeout(reload, 100);
  });
  watcher.on('close', () => clearTimeout(timer));
  return watcher;
}
