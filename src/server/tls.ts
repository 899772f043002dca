import { existsSync, readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { writeCertificateFiles } from '../certs/files.ts';
import { createCA, createServingCert, LOCAL_IDENTITY } from '../certs/generate.ts';

/** TLS 1.2+ with forward-secret AEAD suites only; TLS 1.3 suites are Node's defaults. */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * The serving context's options: the pair plus the protocol floor and suites. Used at start and
 * on every rotation (`setSecureContext` replaces the whole context, so a bare pair would fall
 * back to Node's defaults and accept CBC and non-forward-secret suites).
 */
export function servingContextOptions(
  pair: Pick<SecureContextOptions, 'cert' | 'key'>,
): SecureContextOptions {
  return { cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2', ciphers: TLS_CIPHERS };
}

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
  const ca = createCA('netguard local CA');
  writeCertificateFiles(dir, { ca, serving: createServingCert(ca, LOCAL_IDENTITY) });
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
export interface WatchedPair {
  /** Re-reads the pair now (SIGHUP); a broken pair keeps the old one. */
  reload(): void;
  close(): void;
}

export function watchServingPair(
  dir: string,
  logger: Logger,
  apply: (pair: ServingPair) => void,
): WatchedPair {
  const files = tlsFilesIn(dir);
  let timer: NodeJS.Timeout | undefined;
  const reload = (): void => {
    try {
      const pair = readServingPair(files);
      createSecureContext(servingContextOptions(pair)); // throws when the key does not match the certificate
      apply(pair);
      logger.info({ dir }, 'serving certificate reloaded');
    } catch (err) {
      logger.warn(
        { err, dir },
        'serving certificate changed but could not be loaded; keeping the previous one',
      );
    }
  };
  const watcher = watch(dir, () => {
    clearTimeout(timer);
    timer = setTimeout(reload, 100);
  });
  watcher.on('close', () => clearTimeout(timer));
  return { reload, close: () => watcher.close() };
}
