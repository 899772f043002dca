import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLocalCertificates } from '../../src/server/tls.ts';

export interface LocalCertificates {
  readonly dir: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

let cached: LocalCertificates | undefined;

/** A real local CA and serving pair for localhost/127.0.0.1, made once per test process. */
export function localCertificates(): LocalCertificates {
  if (cached !== undefined) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'netguard-certs-'));
  writeLocalCertificates(dir);
  const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
  cached = { dir, ca: read('ca.crt'), cert: read('tls.crt'), key: read('tls.key') };
  return cached;
}
