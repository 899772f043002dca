import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import t from 'tap';
import { nodeTooOld, quietNodeWarnings } from '../../src/cli/node-runtime.ts';

t.test('an old Node gets one line naming the version it needs', async (t) => {
  t.equal(nodeTooOld('24.21.0'), undefined);
  t.equal(nodeTooOld('22.19.0'), undefined);
  t.equal(nodeTooOld('23.0.0'), undefined);
  const old = nodeTooOld('20.19.5');
  t.match(
    old,
    /^netguard needs Node\.js 22\.19 or newer \(24 LTS recommended\); this is Node\.js 20\.19\.5\./,
  );
  t.equal(old?.trim().split('\n').length, 1, 'one line');
  t.match(nodeTooOld('22.18.1'), 'this is Node.js 22.18.1');
});

t.test("Node's own warnings are dropped unless asked for", async (t) => {
  const removed: string[] = [];
  const proc = { removeAllListeners: (event: string) => void removed.push(event) } as never;
  quietNodeWarnings(proc, {});
  t.same(removed, ['warning']);
  quietNodeWarnings(proc, { NETGUARD_NODE_WARNINGS: '1' });
  quietNodeWarnings(proc, { NODE_OPTIONS: '--trace-warnings' });
  t.same(removed, ['warning'], 'kept when asked for');
});

// The machine's `node` may be older than the project's (it is 20 on some); the built CLI must say so in one line.
const systemNodePath = (process.env['PATH'] ?? '')
  .split(delimiter)
  .filter((dir) => !dir.includes('node_modules'))
  .map((dir) => join(dir, 'node'))
  .find((path) => existsSync(path));
const systemNode = spawnSync(systemNodePath ?? 'node', ['--version'], { encoding: 'utf8' });
const systemMajor = Number.parseInt(systemNode.stdout?.replace(/^v/, '') ?? '', 10);
t.test(
  'the built CLI on an old system Node (real process): one line, exit 2, no stack trace',
  {
    skip: !existsSync('dist/cli/main.js')
      ? 'dist/ not built (npm run build)'
      : !(systemMajor < 22)
        ? `the system node is ${systemNode.stdout?.trim() ?? 'missing'}, not an old one`
        : false,
  },
  async (t) => {
    const run = spawnSync(systemNodePath ?? 'node', ['dist/cli/main.js', '--version'], {
      encoding: 'utf8',
    });
    t.equal(run.status, 2);
    t.match(run.stderr, /^netguard needs Node\.js 22\.19 or newer .* this is Node\.js 20\./);
    t.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    t.notMatch(run.stderr, /at .*\(|undici/, 'no stack trace');
  },
);
