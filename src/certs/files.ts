import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificatePair } from './generate.ts';

/**
 * Writes a private key readable by its owner only, whatever was there before: the key goes to a
 * fresh 0600 file that then replaces the old one, so it never sits in a file with looser bits
 * (a writeFile `mode` only applies when the file is created) and a watcher never reads half a key.
 */
export function writePrivateFile(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600, flag: 'w' });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** ca.crt, ca.key, tls.crt and tls.key in `dir`; the keys 0600 always. */
export interface CertificateFiles {
  readonly ca: CertificatePair;
  readonly serving: CertificatePair;
}

export function writeCertificateFiles(dir: string, pairs: CertificateFiles): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ca.crt'), pairs.ca.cert);
  writePrivateFile(join(dir, 'ca.key'), pairs.ca.key);
  writeFileSync(join(dir, 'tls.crt'), pairs.serving.cert);
  writePrivateFile(join(dir, 'tls.key'), pairs.serving.key);
}
