import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../check/run-cli.ts';

const SHOP = 'test/fixtures/reach/shop';
const TODAY = ['-f', `${SHOP}/cluster.yaml`, `${SHOP}/policies-today.yaml`];

t.test('one question: the exact JSON, exit 0 whether allowed or not', async (t) => {
  const allowed = runCli(['reach', ...TODAY, '--from', 'prod-shop/frontend', '--to', 'prod-shop/api', '--port', '8443', '--output', 'json']);
  t.equal(allowed.code, 0, allowed.stderr);
  t.equal(allowed.stdout, '{"allowed":true,"egress":{"allowed":true,"policies":[]},"ingress":{"allowed":true,"policies":["api-from-frontend"]}}\n');
  const wrongPort = runCli(['reach', ...TODAY, '--from', 'prod-shop/frontend', '--to', 'prod-shop/api', '--port', '9100', '-o', 'json']);
  t.equal(wrongPort.code, 0);
  t.same(wrongPort.json(), { allowed: false, egress: { allowed: true, policies: [] }, ingress: { allowed: false, policies: ['api-from-frontend'] } }, 'the named port is https (8443) only');
  const dnsForgotten = runCli(['reach', ...TODAY, '--from', 'prod-payments/payments', '--to', 'kube-system/coredns', '--port', '53', '--protocol', 'UDP', '-o', 'json']);
  t.same(dnsForgotten.json(), { allowed: false, egress: { allowed: false, policies: ['payments-egress'] }, ingress: { allowed: true, policies: [] } });
  const external = runCli(['reach', ...TODAY, '--from', 'prod-payments/payments', '--to', '160.79.105.200', '--port', '443', '-o', 'json']);
  t.same(external.json(), { allowed: true, egress: { allowed: true, policies: ['payments-egress'] }, ingress: { allowed: true, policies: [] } }, 'an IP address as --to');
});

t.test('one question in text names the deciding policies per side', async (t) => {
  const run = runCli(['reach', ...TODAY, '--from', 'prod-shop/frontend', '--to', 'prod-shop/api', '--port', '8443', '--as-enforced']);
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, [
    'prod-shop/frontend → prod-shop/api TCP/8443: denied',
    '  egress: denied; isolated by netguard-allow-dns, netguard-default-deny',
    '  ingress: allowed by api-from-frontend',
    '',
  ].join('\n'));
});

t.test('the whole picture: text, json, dot and mermaid agree', async (t) => {
  const json = runCli(['reach', ...TODAY, '-o', 'json']).json();
  t.equal(json.asEnforced, false);
  t.same(json.workloads, ['kube-system/coredns', 'prod-ingress/ingress-nginx-controller', 'prod-shop/frontend', 'prod-shop/api', 'prod-payments/payments', 'prod-payments/postgres']);
  const toApi = json.connections.filter((c: { to: string }) => c.to === 'prod-shop/api');
  t.same(toApi, [{ from: 'prod-shop/frontend', to: 'prod-shop/api', port: 8443, protocol: 'TCP', portName: 'https' }], 'api: only the frontend, only https');
  const fromPayments = json.connections.filter((c: { from: string }) => c.from === 'prod-payments/payments').map((c: { to: string; port: number }) => `${c.to}:${c.port}`);
  t.same(fromPayments, ['prod-payments/postgres:5432']);
  t.same(json.outside.find((o: { workload: string }) => o.workload === 'prod-payments/payments'), { workload: 'prod-payments/payments', egress: [{ cidr: '160.79.104.0/23', ports: 'TCP/443' }], ingress: 'any' });

  const text = runCli(['reach', ...TODAY, '-n', 'prod-payments']).stdout;
  t.match(text, /^Reachability in namespace prod-payments under today's NetworkPolicies:\n/);
  t.match(text, /  prod-payments\/payments → prod-payments\/postgres TCP\/5432 \(postgres\)\n/);
  t.match(text, /  prod-payments\/payments: to 160\.79\.104\.0\/23 on TCP\/443; from any address \(not restricted\)\n/);

  const dot = runCli(['reach', ...TODAY, '-o', 'dot']).stdout;
  t.match(dot, /^digraph reach \{\n  rankdir=LR;\n/);
  t.match(dot, /  "prod-shop\/frontend" -> "prod-shop\/api" \[label="TCP\/8443"\];\n/);
  t.match(dot, /  "160\.79\.104\.0\/23" \[shape=ellipse, style=dashed\];\n  "prod-payments\/payments" -> "160\.79\.104\.0\/23" \[label="TCP\/443", style=dashed\];\n/);
  t.notMatch(dot, /"prod-payments\/payments" -> "kube-system\/coredns"/, 'payments forgot DNS');

  const mermaid = runCli(['reach', ...TODAY, '-o', 'mermaid']).stdout;
  t.match(mermaid, /^flowchart LR\n  subgraph ns0\["kube-system"\]\n    n0\["coredns"\]\n  end\n/);
  t.match(mermaid, /  n\d+ -->\|"TCP\/8443"\| n\d+\n/);
  t.match(mermaid, /  n\d+\(\["160\.79\.104\.0\/23"\]\)\n  n\d+ -\.->\|"TCP\/443"\| n\d+\n/);
});

t.test('bad input exits 2 with a message naming the flag or field', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--from', 'prod-shop/web', '--to', 'prod-shop/api', '--port', '80'], /--from: no Deployment, StatefulSet, DaemonSet, Job or bare Pod "prod-shop\/web" \(known in prod-shop: frontend, api\)/],
    [['--from', 'prod-shop/frontend', '--to', 'nowhere/api', '--port', '80'], /--to: .*namespace nowhere is not in the input/],
    [['--from', 'frontend', '--to', 'prod-shop/api', '--port', '80'], /--from: expected NAMESPACE\/WORKLOAD/],
    [['--from', 'prod-shop/frontend', '--to', 'prod-shop/api'], /--from, --to and --port go together/],
    [['--from', 'prod-shop/frontend', '--to', 'prod-shop/api', '--port', '70000'], /--port: /],
    [['--from', 'prod-shop/frontend', '--to', 'prod-shop/api', '--port', '80', '--protocol', 'ICMP'], /--protocol: /],
    [['--output', 'svg'], /--output: /],
    [['-n', 'nowhere'], /--namespace: nowhere is not in the input/],
  ];
  for (const [args, message] of cases) {
    const run = runCli(['reach', ...TODAY, ...args]);
    t.equal(run.code, 2, args.join(' '));
    t.match(run.stderr, message, args.join(' '));
    t.equal(run.stdout, '', 'nothing on stdout');
  }
  const dir = mkdtempSync(join(tmpdir(), 'reach-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: prod-shop}\nspec:\n  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n');
  const run = runCli(['reach', '-f', `${SHOP}/cluster.yaml`, bad]);
  t.equal(run.code, 2);
  t.match(run.stderr, /NetworkPolicy prod-shop\/bad: spec\.egress\[0\]\.to\[0\]\.ipBlock\.cidr: "10\.0\.0\.0\/33" is not a CIDR block/);
});
