/**
 * `npm run build:standalone`: one `netguard` executable that needs no Node on the user's machine
 * (Node's single executable applications). dist/ is bundled into one CommonJS file with esbuild,
 * turned into a SEA blob with the package.json and the bundled policy as assets, and injected into
 * a copy of this Node binary with postject. Output: build/netguard (not committed).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const OUT = 'build';
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function run(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`,
    );
}

/** The tools this needs, or why they are missing (the smoke test skips with that message). */
export function missingTools(): string | undefined {
  const require = createRequire(import.meta.url);
  for (const tool of ['esbuild', 'postject']) {
    try {
      require.resolve(`${tool}/package.json`);
    } catch {
      return `${tool} is not installed (npm install --save-dev ${tool})`;
    }
  }
  return undefined;
}

export async function buildStandalone(): Promise<string> {
  const missing = missingTools();
  if (missing !== undefined) throw new Error(missing);
  if (!existsSync('dist/standalone/entry.js'))
    throw new Error('dist/ is not built (npm run build)');
  mkdirSync(OUT, { recursive: true });
  const { build } = await import('esbuild');
  await build({
    entryPoints: ['dist/standalone/entry.js'],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    outfile: join(OUT, 'netguard.cjs'),
    // import.meta.url has no meaning in one CommonJS file; package-info.ts reads assets instead.
    logOverride: { 'empty-import-meta': 'silent' },
    legalComments: 'none',
  });
  const config = {
    main: join(OUT, 'netguard.cjs'),
    output: join(OUT, 'netguard.blob'),
    disableExperimentalSEAWarning: true,
    useCodeCache: false,
    assets: {
      'package.json': 'package.json',
      'policies/guardrails.yaml': 'policies/guardrails.yaml',
    },
  };
  writeFileSync(join(OUT, 'sea-config.json'), JSON.stringify(config, null, 2));
  run(process.execPath, ['--experimental-sea-config', join(OUT, 'sea-config.json')]);
  const binary = join(OUT, 'netguard');
  copyFileSync(process.execPath, binary);
  chmodSync(binary, 0o755);
  const postject = join('node_modules', '.bin', 'postject');
  run(postject, [binary, 'NODE_SEA_BLOB', config.output, '--sentinel-fuse', FUSE]);
  return binary;
}

if (import.meta.main) {
  buildStandalone().then(
    (binary) => process.stdout.write(`built ${binary} (no Node needed to run it)\n`),
    (err: unknown) => {
      process.stderr.write(
        `build:standalone: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
