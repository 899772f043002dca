import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';

/** `netguard ARGS` as users run it, with a home that has no kubeconfig and no in-cluster variables. */
function cli(
  args: readonly string[],
  timeout = 30_000,
): { code: number | null; stdout: string; stderr: string; signal: NodeJS.Signals | null } {
  const home = mkdtempSync(join(tmpdir(), 'netguard-home-'));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: '1' };
  delete env['KUBECONFIG'];
  delete env['KUBERNETES_SERVICE_HOST'];
  const run = spawnSync(process.execPath, ['src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env,
    timeout,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr, signal: run.signal };
}

const oneLine = (t: Test, stderr: string): void => {
  t.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
  t.notMatch(stderr, /\n\s+at /, 'no stack trace');
};

t.test(
  'a busy port: one line, exit 1, and the process ends (no hang with nothing listening)',
  async (t) => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.teardown(() => blocker.close());
    const address = blocker.address();
    const busy = typeof address === 'object' && address !== null ? address.port : 0;
    const certs = mkdtempSync(join(tmpdir(), 'netguard-certs-'));
    const run = cli([
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(busy),
      '--metrics-port',
      '0',
      '--certs',
      certs,
      '--log-level',
      'silent',
    ]);
    t.equal(run.signal, null, 'exited by itself');
    t.equal(run.code, 1);
    t.equal(
      run.stderr,
      `netguard: --port ${busy}: cannot listen: address already in use (is another netguard running?)\n`,
    );
  },
);

t.test(
  'kubeconfig and context problems are one line, never a stack, never "no cluster"',
  async (t) => {
    const missing = cli(['audit', '--kubeconfig', '/nonexistent/kubeconfig']);
    t.equal(missing.code, 2);
    t.equal(missing.stderr, 'netguard: /nonexistent/kubeconfig: cannot load: ENOENT\n');
    const dir = mkdtempSync(join(tmpdir(), 'netguard-kc-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\ncontexts: [{name: dev, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\ncurrent-context: dev\n',
    );
    const context = cli(['audit', '--kubeconfig', kubeconfig, '--context', 'prod']);
    t.equal(context.code, 2);
    t.equal(context.stderr, 'netguard: --context: kubeconfig has no context "prod" (have: dev)\n');
    const refused = cli(['audit', '--kubeconfig', kubeconfig]);
    t.equal(refused.code, 1);
    t.match(
      refused.stderr,
      /^netguard: cannot reach the cluster: connect ECONNREFUSED 127\.0\.0\.1:1\n$/,
    );
    oneLine(t, refused.stderr);
    // serve --context alone means the default kubeconfig, as with kubectl: here there is none with that context.
    const serveContext = cli([
      'serve',
      '--context',
      'prod',
      '--port',
      '0',
      '--metrics-port',
      '0',
      '--log-level',
      'silent',
    ]);
    t.equal(serveContext.code, 2, 'serve --context does not start without a cluster');
    t.match(serveContext.stderr, /^netguard: --context: kubeconfig has no context "prod"/);
    oneLine(t, serveContext.stderr);
  },
);

t.test("usage errors print one line and the command's usage, not the whole help", async (t) => {
  const run = cli(['audit', '--output', 'xml']);
  t.equal(run.code, 2);
  t.match(
    run.stderr,
    /^netguard: --output: .*"policyreport".*\nUsage: netguard audit \[options\]\nRun "netguard audit --help" for details\.\n$/,
  );
  const unknown = cli(['chek']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /^error: unknown command 'chek'/);
  t.notMatch(unknown.stderr, /Commands:/);
});

t.test('--version and completion', async (t) => {
  const version = cli(['--version']);
  t.equal(version.code, 0);
  t.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const bash = cli(['completion', 'bash']);
  const probe = spawnSync(
    'bash',
    [
      '-c',
      `${bash.stdout}\nCOMP_WORDS=(netguard check --o); COMP_CWORD=2; _netguard; echo "\${COMPREPLY[*]}"; COMP_WORDS=(netguard check -o s); COMP_CWORD=3; _netguard; echo "\${COMPREPLY[*]}"; COMP_WORDS=(netguard ex); COMP_CWORD=1; _netguard; echo "\${COMPREPLY[*]}"`,
    ],
    { encoding: 'utf8' },
  );
  t.same(probe.stdout.trim().split('\n'), ['--output', 'sarif', 'exception'], probe.stderr);
  const zsh = cli(['completion', 'zsh']);
  t.match(zsh.stdout, /^#compdef netguard\n/);
  const fish = cli(['completion', 'fish']);
  t.match(fish.stdout, /complete -c netguard -n '__fish_use_subcommand' -a check -d /);
  t.match(
    fish.stdout,
    /complete -c netguard -n '__fish_seen_subcommand_from check' -s o -l output -x -a 'text json yaml sarif junit github'/,
  );
  for (const [shell, binary] of [
    ['zsh', 'zsh'],
    ['fish', 'fish'],
  ] as const) {
    if (spawnSync(binary, ['--version']).error !== undefined) continue;
    const out = cli(['completion', shell]).stdout;
    const check = spawnSync(
      binary,
      shell === 'fish' ? ['--no-execute', '-c', out] : ['-n', '-c', out],
      { encoding: 'utf8' },
    );
    t.equal(check.status, 0, `${shell} parses it: ${check.stderr}`);
  }
  const bad = cli(['completion', 'powershell']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /completion: unknown shell "powershell" \(bash, zsh or fish\)/);
});
