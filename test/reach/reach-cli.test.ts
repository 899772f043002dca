import { UsageError } from '../../src/errors.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseReachOptions, runReach } from '../../src/cli/reach.ts';
import { runCli } from '../check/run-cli.ts';

const SHOP = 'test/fixtures/reach/shop';
const FILES = [`${SHOP}/cluster.yaml`, `${SHOP}/policies-today.yaml`];
const TODAY = ['-f', ...FILES];

/** `netguard reach` in-process, with commander's defaults; the spawned runs below cover main.ts. */
async function reach(flags: Record<string, unknown>): Promise<string> {
  const defaults = {
    filename: FILES,
    protocol: 'TCP',
    asEnforced: false,
    output: 'text',
    config: 'policies/guardrails.yaml',
  };
  let out = '';
  const code = await runReach(parseReachOptions({ ...defaults, ...flags }), {
    stdout: (text) => (out += text),
    stdin: () => '',
  });
  if (code !== 0) throw new Error(`exit ${code}`);
  return out;
}

t.test('one question as users run it: the exact JSON, exit 0', async (t) => {
  const run = runCli([
    'reach',
    ...TODAY,
    '--from',
    'prod-shop/frontend',
    '--to',
    'prod-shop/api',
    '--port',
    '8443',
    '--output',
    'json',
  ]);
  t.equal(run.code, 0, run.stderr);
  t.equal(
    run.stdout,
    '{"allowed":true,"egress":{"allowed":true,"policies":[]},"ingress":{"allowed":true,"policies":["api-from-frontend"]}}\n',
  );
});

t.test('one question: denied is still an answer, and names the policies per side', async (t) => {
  const ask = async (from: string, to: string, port: string, extra: Record<string, unknown> = {}) =>
    JSON.parse(await reach({ from, to, port, output: 'json', ...extra }));
  t.same(
    await ask('prod-shop/frontend', 'prod-shop/api', '9100'),
    {
      allowed: false,
      egress: { allowed: true, policies: [] },
      ingress: { allowed: false, policies: ['api-from-frontend'] },
    },
    'the named port is https (8443) only',
  );
  t.same(await ask('prod-payments/payments', 'kube-system/coredns', '53', { protocol: 'UDP' }), {
    allowed: false,
    egress: { allowed: false, policies: ['payments-egress'] },
    ingress: { allowed: true, policies: [] },
  });
  t.same(
    await ask('prod-payments/payments', '160.79.105.200', '443'),
    {
      allowed: true,
      egress: { allowed: true, policies: ['payments-egress'] },
      ingress: { allowed: true, policies: [] },
    },
    'an IP address as --to',
  );
  t.equal(
    await reach({
      from: 'prod-shop/frontend',
      to: 'prod-shop/api',
      port: '8443',
      asEnforced: true,
    }),
    [
      'prod-shop/frontend → prod-shop/api TCP/8443: denied',
      '  egress: denied; isolated by netguard-allow-dns, netguard-default-deny',
      '  ingress: allowed by api-from-frontend',
      '',
    ].join('\n'),
  );
});

t.test('the whole picture: text, json, dot and mermaid agree', async (t) => {
  const json = JSON.parse(await reach({ output: 'json' }));
  t.equal(json.asEnforced, false);
  t.same(json.workloads, [
    'kube-system/coredns',
    'prod-ingress/ingress-nginx-controller',
    'prod-shop/frontend',
    'prod-shop/api',
    'prod-payments/payments',
    'prod-payments/postgres',
  ]);
  const toApi = json.connections.filter((c: { to: string }) => c.to === 'prod-shop/api');
  t.same(
    toApi,
    [
      {
        from: 'prod-shop/frontend',
        to: 'prod-shop/api',
        port: 8443,
        protocol: 'TCP',
        portName: 'https',
      },
    ],
    'api: only the frontend, only https',
  );
  const fromPayments = json.connections
    .filter((c: { from: string }) => c.from === 'prod-payments/payments')
    .map((c: { to: string; port: number }) => `${c.to}:${c.port}`);
  t.same(fromPayments, ['prod-payments/postgres:5432']);
  t.same(
    json.outside.find((o: { workload: string }) => o.workload === 'prod-payments/payments'),
    {
      workload: 'prod-payments/payments',
      egress: [{ cidr: '160.79.104.0/23', ports: 'TCP/443' }],
      ingress: 'any',
    },
  );

  const text = await reach({ namespace: 'prod-payments' });
  t.match(text, /^Reachability in namespace prod-payments under today's NetworkPolicies:\n/);
  t.match(text, /\n {2}prod-payments\/payments → prod-payments\/postgres TCP\/5432 \(postgres\)\n/);
  t.match(
    text,
    /\n {2}prod-payments\/payments: to 160\.79\.104\.0\/23 on TCP\/443; from any address \(not restricted\)\n/,
  );
  t.match(text, /\n17 allowed connections on declared container ports\.\n$/);

  const dot = await reach({ output: 'dot' });
  t.match(dot, /^digraph reach \{\n {2}rankdir=LR;\n/);
  t.match(dot, /\n {2}"prod-shop\/frontend" -> "prod-shop\/api" \[label="TCP\/8443"\];\n/);
  t.match(
    dot,
    /\n {2}"160\.79\.104\.0\/23" \[shape=ellipse, style=dashed\];\n {2}"prod-payments\/payments" -> "160\.79\.104\.0\/23" \[label="TCP\/443", style=dashed\];\n/,
  );
  t.notMatch(dot, /"prod-payments\/payments" -> "kube-system\/coredns"/, 'payments forgot DNS');

  const mermaid = await reach({ output: 'mermaid' });
  t.match(
    mermaid,
    /^flowchart LR\n {2}subgraph ns0\["kube-system"\]\n {4}n0\["coredns"\]\n {2}end\n/,
  );
  t.match(mermaid, /\n {2}n\d+ -->\|"TCP\/8443"\| n\d+\n/);
  t.match(mermaid, /\n {2}n\d+\(\["160\.79\.104\.0\/23"\]\)\n {2}n\d+ -\.->\|"TCP\/443"\| n\d+\n/);
});

t.test('bad input is a usage error naming the flag or field', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { from: 'prod-shop/frontend', to: 'nowhere/api', port: '80' },
      /^--to: .*namespace nowhere is not in the input/,
    ],
    [
      { from: 'frontend', to: 'prod-shop/api', port: '80' },
      /^--from: expected NAMESPACE\/WORKLOAD/,
    ],
    [{ from: 'prod-shop/frontend', to: 'prod-shop/api' }, /^--from, --to and --port go together/],
    [
      { from: 'prod-shop/frontend', to: 'prod-shop/api', port: '80', protocol: 'ICMP' },
      /^--protocol: /,
    ],
    [
      { from: 'prod-shop/frontend', to: 'prod-shop/api', port: '80', output: 'dot' },
      /^--output: one question answers in text or json/,
    ],
    [{ output: 'svg' }, /^--output: /],
    [{ namespace: 'nowhere' }, /^--namespace: nowhere is not in the input/],
  ];
  for (const [flags, message] of cases) {
    await t.rejects(reach(flags), { constructor: UsageError, message }, JSON.stringify(flags));
  }
});

t.test(
  'as users run it, bad input exits 2 with the message on stderr and nothing on stdout',
  async (t) => {
    const unknown = runCli([
      'reach',
      ...TODAY,
      '--from',
      'prod-shop/web',
      '--to',
      'prod-shop/api',
      '--port',
      '80',
    ]);
    t.equal(unknown.code, 2);
    t.equal(
      unknown.stderr,
      'netguard: --from: no Deployment, StatefulSet, DaemonSet, Job or bare Pod "prod-shop/web" (known in prod-shop: frontend, api)\n' +
        'Usage: netguard reach [options]\nRun "netguard reach --help" for details.\n',
    );
    t.equal(unknown.stdout, '');
    const port = runCli([
      'reach',
      ...TODAY,
      '--from',
      'prod-shop/frontend',
      '--to',
      'prod-shop/api',
      '--port',
      '70000',
    ]);
    t.equal(port.code, 2);
    t.match(port.stderr, /^netguard: --port: /);
    const dir = mkdtempSync(join(tmpdir(), 'reach-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: prod-shop}\nspec:\n  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n',
    );
    const run = runCli(['reach', '-f', `${SHOP}/cluster.yaml`, bad]);
    t.equal(run.code, 2);
    t.match(
      run.stderr,
      /NetworkPolicy prod-shop\/bad: spec\.egress\[0\]\.to\[0\]\.ipBlock\.cidr: "10\.0\.0\.0\/33" is not a CIDR block/,
    );
  },
);

t.test('one question from an address: the outside side is named as such', async (t) => {
  t.equal(
    await reach({ from: '203.0.113.9', to: 'prod-shop/api', port: '8443' }),
    [
      '203.0.113.9 → prod-shop/api TCP/8443: denied',
      '  egress: an address outside the cluster (no NetworkPolicy applies)',
      '  ingress: denied; isolated by api-from-frontend',
      '',
    ].join('\n'),
  );
});
