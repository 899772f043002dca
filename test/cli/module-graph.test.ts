import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const CLIENT_NODE = '/node_modules/@kubernetes/client-node/';

/** Runs `netguard <args>` with the module probe preloaded; returns its exit code and every module it resolved. */
function modulesOf(args: readonly string[]): { code: number | null; modules: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'netguard-modules-'));
  const out = join(dir, 'modules.txt');
  try {
    const child = spawnSync(
      process.execPath,
      ['--import', './test/helpers/module-probe.ts', 'src/cli/main.ts', ...args],
      {
        encoding: 'utf8',
        // Without tap's coverage hooks: the graph is netguard's own.
        env: { ...process.env, NODE_OPTIONS: '', NETGUARD_MODULE_PROBE: out },
        timeout: 120_000,
      },
    );
    return { code: child.status, modules: readFileSync(out, 'utf8').split('\n') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ours = (modules: readonly string[]): string[] =>
  modules
    .filter((url) => url.includes('/src/') && !url.includes('/node_modules/'))
    .map((url) => url.slice(url.lastIndexOf('/src/') + 1))
    .sort();

t.test('check is offline: it judges without ever loading the cluster client', async (t) => {
  const { code, modules } = modulesOf(['check', '-f', 'test/fixtures/check/denied.yaml']);
  t.equal(code, 1, 'check ran and judged (the fixture is denied)');
  t.ok(ours(modules).includes('src/engine/evaluate.ts'), 'the probe saw the engine load');
  t.same(
    modules.filter((url) => url.includes(CLIENT_NODE)),
    [],
    'no @kubernetes/client-node module',
  );
  t.same(
    ours(modules).filter((path) => path.startsWith('src/kube/') || path === 'src/live-world.ts'),
    [],
    'no cluster adapter and not the live world',
  );
});

t.test('exception list on a file reads the offline world: no cluster client', async (t) => {
  const { code, modules } = modulesOf([
    'exception',
    'list',
    '--exceptions',
    'policies/exceptions.yaml',
    '-o',
    'json',
  ]);
  t.equal(code, 0, 'it listed');
  t.ok(ours(modules).includes('src/world.ts'), 'through the offline world');
  t.same(
    modules.filter((url) => url.includes(CLIENT_NODE)),
    [],
    'no @kubernetes/client-node module',
  );
  t.same(
    ours(modules).filter((path) => path === 'src/live-world.ts' || path === 'src/kube/client.ts'),
    [],
    'neither the live world nor the cluster client',
  );
});

t.test('the probe sees the cluster client where a command does load it (certs)', async (t) => {
  const { code, modules } = modulesOf(['certs', '--help']);
  t.equal(code, 0);
  t.ok(modules.some((url) => url.includes(CLIENT_NODE)));
});

t.test(
  '--version loads no command, rule or schema: only the CLI entry and the version',
  async (t) => {
    for (const flag of ['--version', '-V']) {
      const { code, modules } = modulesOf([flag]);
      t.equal(code, 0, flag);
      t.same(
        ours(modules),
        [
          'src/cli/io.ts',
          'src/cli/main.ts',
          'src/cli/node-runtime.ts',
          'src/cli/program.ts',
          'src/cli/run.ts',
          'src/errors.ts',
          'src/package-info.ts',
        ],
        flag,
      );
      t.same(
        modules.filter((url) => url.includes('/node_modules/zod/') || url.includes(CLIENT_NODE)),
        [],
        `${flag}: neither zod nor the cluster client`,
      );
    }
  },
);
