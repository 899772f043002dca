import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import t from 'tap';
import { buildStandalone, missingTools } from '../../src/standalone/build.ts';

const NODE_BIN = dirname(process.execPath);
/**
 * Runs a command as a user's shell would: a clean environment (`env -i`; the test runner re-injects
 * its loader hooks into every child's NODE_OPTIONS otherwise) with Node 24 first on PATH.
 */
function asUser(
  command: string,
  args: readonly string[],
  options: { cwd?: string; path?: string; timeout?: number } = {},
) {
  const path = options.path ?? `${NODE_BIN}:${process.env['PATH'] ?? ''}`;
  const home = process.env['HOME'] ?? tmpdir();
  // What reaching the registry needs on this machine: its CA certificates and proxies.
  const network = Object.entries(process.env)
    .filter(
      ([key, value]) =>
        value !== undefined &&
        /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|(HTTPS?|NO)_PROXY|(https?|no)_proxy)$/.test(
          key,
        ),
    )
    .map(([key, value]) => `${key}=${value ?? ''}`);
  return spawnSync('env', ['-i', `PATH=${path}`, `HOME=${home}`, ...network, command, ...args], {
    encoding: 'utf8',
    cwd: options.cwd ?? process.cwd(),
    timeout: options.timeout ?? 600_000,
  });
}
const npmMissing = spawnSync('npm', ['--version']).error === undefined ? false : 'npm not on PATH';
const POLICY =
  'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: prod-a}\nspec: {podSelector: {}, policyTypes: [Egress]}\n';

t.test(
  'npm pack makes a package that installs and whose bin runs, bundled policy included',
  { skip: npmMissing },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'netguard-pack-'));
    const pack = asUser('npm', ['pack', '--pack-destination', dir, '--silent']);
    t.equal(pack.status, 0, pack.stderr);
    const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
    if (tarball === undefined) return t.fail('no tarball');
    const app = join(dir, 'app');
    const install = asUser('npm', [
      'install',
      '--prefix',
      app,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--omit=dev',
      join(dir, tarball),
    ]);
    t.equal(install.status, 0, install.stderr);
    const bin = join(app, 'node_modules', '.bin', 'netguard');
    t.ok(existsSync(bin), 'the bin is linked');
    const version = asUser(bin, ['--version'], { cwd: dir });
    t.equal(version.status, 0, version.stderr);
    t.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    writeFileSync(join(dir, 'np.yaml'), POLICY);
    const check = asUser(bin, ['check', '-f', 'np.yaml'], { cwd: dir });
    t.equal(check.status, 1, check.stderr);
    t.match(
      check.stdout,
      `Policy: ${join(app, 'node_modules', 'netguard', 'policies', 'guardrails.yaml')} (bundled with netguard`,
    );
    t.match(check.stdout, /^DENIED +NetworkPolicy prod-a\/x/m);
  },
);

const toolsMissing = missingTools();
t.test(
  'the standalone executable runs with no node on PATH',
  { skip: toolsMissing === undefined ? false : `standalone build tools missing: ${toolsMissing}` },
  async (t) => {
    const build = asUser('npm', ['run', 'build']);
    t.equal(build.status, 0, build.stderr);
    const binary = resolve(await buildStandalone());
    const empty = mkdtempSync(join(tmpdir(), 'netguard-nonode-'));
    // PATH names one empty folder: there is no node (or anything else) to find.
    const noNode = asUser('sh', ['-c', 'command -v node || echo none'], {
      path: `${empty}:/usr/bin:/bin`,
    });
    t.match(noNode.stdout, /node/, 'sanity: the probe itself works');
    t.equal(
      asUser('/bin/sh', ['-c', 'command -v node || echo none'], { path: empty }).stdout,
      'none\n',
      'no node on this PATH',
    );
    const version = asUser(binary, ['--version'], { path: empty, cwd: empty });
    t.equal(version.status, 0, version.stderr);
    t.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    writeFileSync(join(empty, 'np.yaml'), POLICY);
    const check = asUser(binary, ['check', '-f', 'np.yaml', '-o', 'json'], {
      path: empty,
      cwd: empty,
    });
    t.equal(check.status, 1, check.stderr);
    const report = JSON.parse(check.stdout);
    t.match(
      report.policy,
      /^the policy built into the netguard \d+\.\d+\.\d+ executable \(pass --config to use your own\)$/,
      'named for a reader, not as the temporary file it is unpacked to',
    );
    t.same(
      report.results[0].findings.map((f: { rule: string }) => f.rule),
      ['NP001'],
    );
  },
);
