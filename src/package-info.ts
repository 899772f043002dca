/**
 * What ships with the package: its version and the bundled policy. Resolved from this module's
 * own location (src/ in a checkout, dist/ when installed, both one level below the package root),
 * never from the working directory, so `netguard check` works from any repository. In the
 * standalone executable (Node SEA) the same files are embedded assets.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

export const VERSION: string = (JSON.parse(packageFile('package.json')) as { version: string }).version;

/** The policy shipped with netguard: the default of `--config`. */
export function bundledPolicyPath(): string {
  if (sea === undefined) return join(packageRoot(), 'policies', 'guardrails.yaml');
  // A file, like any other --config: written once per version where the user can read it.
  const dir = join(tmpdir(), `netguard-${VERSION}`);
  const path = join(dir, 'guardrails.yaml');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, sea.getAsset('policies/guardrails.yaml', 'utf8'));
  return path;
}
