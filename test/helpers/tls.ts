import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLocalCertificates } from '../../src/server/tls.ts';

export interface LocalCertificates {
  /** This process's own copy (tests write beside it), never the shared one. */
  readonly dir: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

// One pair for the whole run, shared by its test processes (an RSA key costs ~0.3 s of CPU); never in git.
const SHARED = 'node_modules/.cache/netguard-test-certs';
const FILES = ['ca.crt', 'tls.crt', 'tls.key'] as const;
const DAY_MS = 86_400_000;

type Pair = Record<(typeof FILES)[number], string>;

const readPair = (dir: string): Pair => {
  const [ca, cert, key] = FILES.map((name) => readFileSync(join(dir, name), 'utf8'));
  return { 'ca.crt': ca ?? '', 'tls.crt': cert ?? '', 'tls.key': key ?? '' };
};

/** Valid for a day more by this process's clock (a run under faketime makes its own). */
function fresh(pair: Pair): boolean {
  const now = Date.now();
  return [pair['ca.crt'], pair['tls.crt']].every((pem) => {
    const cert = new X509Certificate(pem);
    return Date.parse(cert.validFrom) <= now && Date.parse(cert.validTo) > now + DAY_MS;
  });
}

function sharedPair(): Pair {
  const current = join(SHARED, 'current');
  try {
    const pair = readPair(current);
    if (fresh(pair)) return pair;
  } catch {
    // none yet, or another process is replacing it: make one
  }
  mkdirSync(SHARED, { recursive: true });
  const made = mkdtempSync(join(SHARED, 'new-'));
  writeLocalCertificates(made);
  const pair = readPair(made);
  // Published by rename, so a reader sees a whole pair or none; losing the race is fine.
  rmSync(current, { recursive: true, force: true });
  try {
    renameSync(made, current);
  } catch {
    rmSync(made, { recursive: true, force: true });
  }
  return pair;
}

let cached: LocalCertificates | undefined;

/** A real local CA and serving pair for localhost/127.0.0.1, in a folder of this process's own. */
export function localCertificates(): LocalCertificates {
  if (cached !== undefined) return cached;
  const pair = sharedPair();
  const dir = mkdtempSync(join(tmpdir(), 'netguard-certs-'));
  for (const name of FILES) writeFileSync(join(dir, name), pair[name]);
  cached = { dir, ca: pair['ca.crt'], cert: pair['tls.crt'], key: pair['tls.key'] };
  return cached;
}
