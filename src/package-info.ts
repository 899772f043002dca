/**
 * What ships with the package: its version and the bundled policy. Resolved from this module's
 * own location (src/ in a checkout, dist/ when installed, both one level below the package root),
 * never from the working directory, so `netguard check` works from any repository. In the
 * standalone executable (Node SEA) the same files are embedded assets.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Sea {
  isSea(): boolean;
  getAsset(key: string, encoding: string): string;
}

function seaOf(): Sea | undefined {
  try {
    // node:sea only exists from Node 20; required lazily so ordinary runs never touch it.
    const sea = createRequire(import.meta.url ?? __filename)('node:sea') as Sea;
    return sea.isSea() ? sea : undefined;
  } catch {
    return undefined;
  }
}

const sea = seaOf();
const packageRoot = (): string => fileURLToPath(new URL('..', import.meta.url));

function packageFile(name: string): string {
  if (sea !== undefined) return sea.getAsset(name, 'utf8');
  return readFileSync(join(packageRoot(), name), 'utf8');
}

export const VERSION: string = (JSON.parse(packageFile('package.json')) as { version: string })
  .version;

let seaPolicy: string | undefined;

/** True in the standalone executable, whose bundled policy lives inside the binary. */
export const IS_STANDALONE = sea !== undefined;

/** The policy shipped with netguard: the default of `--config`. */
export function bundledPolicyPath(): string {
  if (sea === undefined) return join(packageRoot(), 'policies', 'guardrails.yaml');
  if (seaPolicy !== undefined) return seaPolicy;
  // A file, like any other --config: in a fresh private folder (never a shared, guessable path
  // another local user could plant a policy in), removed at exit.
  const dir = mkdtempSync(join(tmpdir(), 'netguard-'));
  const path = join(dir, 'guardrails.yaml');
  writeFileSync(path, sea.getAsset('policies/guardrails.yaml', 'utf8'), { mode: 0o600 });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  seaPolicy = path;
  return path;
}
