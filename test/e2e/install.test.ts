import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import t from 'tap';
import { serviceCertificates } from '../../src/cli/certs.ts';
import { evaluateMatchCondition } from './harness.ts';
import { install } from './setup.ts';

const manifest = (name: string): string => readFileSync(`test/e2e/manifests/${name}`, 'utf8');

t.test('kubectl apply through the API server harness, against deploy/ and a running netguard', async (t) => {
  const cluster = await install(t);
  t.ok(cluster.configurations().every((c) => c.webhooks.every((w: Record<string, any>) => w.clientConfig.caBundle === cluster.caBundle)), 'netguard certs --patch set the caBundle on both webhooks');
  const kubectl = cluster.harness();

  const ns = await kubectl.apply('namespace.yaml', manifest('namespace.yaml'));
  t.same(ns, { stdout: ['namespace/prod-shop created'], stderr: [], ok: true });
  const stored = cluster.api.get('/api/v1/namespaces', undefined, 'prod-shop');
  t.same(stored?.metadata.annotations, { 'netguard.dev/default-deny': 'Ingress,Egress', 'netguard.dev/allow-dns': 'true' }, 'mutated by mutate.netguard.dev (NS001, enforce)');

  const denied = await kubectl.apply('app.yaml', manifest('app.yaml'));
  t.notOk(denied.ok);
  t.same(denied.stdout, ['configmap/web-config created'], 'the ConfigMap in the same file is applied: it matches no webhook rule');
  const [denial] = denied.stderr;
  t.match(denial, /^Error from server \(Forbidden\): error when creating "app\.yaml": admission webhook "validate\.netguard\.dev" denied the request: Deployment prod-shop\/web violates/);
  t.ok(readFileSync('docs/install.md', 'utf8').includes(`$ kubectl apply -f app.yaml\n${[...denied.stdout, ...denied.stderr].join('\n')}\n`), 'docs/install.md shows the rejection exactly as rendered');
  t.equal(cluster.api.get('/apis/apps/v1/deployments', 'prod-shop', 'web'), undefined, 'nothing was stored');

  const fixed = await kubectl.apply('app.yaml', manifest('app-fixed.yaml'));
  t.same(fixed, { stdout: ['deployment.apps/web created'], stderr: [], ok: true });

  const system = await kubectl.apply('kube-system.yaml', manifest('kube-system.yaml'));
  t.same(system, { stdout: ['daemonset.apps/node-agent created'], stderr: [], ok: true });
  t.same(
    kubectl.calls.map((c) => `${c.webhook} ${c.operation} ${c.kind} ${c.namespace}/${c.name}`),
    ['mutate.netguard.dev CREATE Namespace prod-shop/prod-shop', 'validate.netguard.dev CREATE Deployment prod-shop/web', 'validate.netguard.dev CREATE Deployment prod-shop/web'],
    'the ConfigMap and the kube-system DaemonSet never reached netguard',
  );

  t.comment(['$ kubectl apply -f namespace.yaml', ...ns.stdout, '$ kubectl apply -f app.yaml', ...denied.stdout, ...denied.stderr, '$ kubectl apply -f app.yaml   # fixed', ...fixed.stdout, '$ kubectl apply -f kube-system.yaml', ...system.stdout].join('\n'));

  await t.test('a namespace update is reviewed by validate.netguard.dev (NS002 on the baseline annotations)', async (t) => {
    const weakened = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod-shop\n  labels: {env: prod}\n  annotations: {netguard.dev/default-deny: Ingress, netguard.dev/allow-dns: "true"}\n`;
    const result = await kubectl.apply('namespace.yaml', weakened);
    t.notOk(result.ok);
    t.match(result.stderr[0], /^Error from server \(Forbidden\): error when applying "namespace\.yaml": admission webhook "validate\.netguard\.dev" denied the request: [\s\S]*NS002 baseline-removal/);
  });
});

t.test('the harness trusts only the caBundle, and honours failurePolicy', async (t) => {
  const cluster = await install(t);
  const other = serviceCertificates('netguard', 'netguard-system');
  const withPolicy = (failurePolicy: string, caBundle?: string) =>
    cluster.configurations().map((c) => ({ ...c, webhooks: c.webhooks.map((w: Record<string, any>) => ({ ...w, failurePolicy, clientConfig: { ...w.clientConfig, caBundle: caBundle ?? w.clientConfig.caBundle } })) }));

  const untrusted = await cluster.harness(withPolicy('Fail', other.caBundle)).apply('namespace.yaml', manifest('namespace.yaml'));
  t.notOk(untrusted.ok);
  t.match(untrusted.stderr[0], /^Error from server \(InternalError\): error when creating "namespace\.yaml": Internal error occurred: failed calling webhook "mutate\.netguard\.dev": failed to call webhook: .*certificate/);

  // A port nobody listens on: netguard is down.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const address = closed.address();
  const deadPort = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise((resolve) => closed.close(resolve));

  const failClosed = await cluster.harness(withPolicy('Fail'), deadPort).apply('namespace.yaml', manifest('namespace.yaml'));
  t.match(failClosed.stderr[0], /failed calling webhook "mutate\.netguard\.dev": failed to call webhook: Post "https:\/\/netguard\.netguard-system\.svc:443\/mutate\?timeout=10s": connect ECONNREFUSED/);
  t.equal(cluster.api.get('/api/v1/namespaces', undefined, 'prod-shop'), undefined, 'Fail: nothing created');

  const failOpen = await cluster.harness(withPolicy('Ignore'), deadPort).apply('namespace.yaml', manifest('namespace.yaml'));
  t.same(failOpen, { stdout: ['namespace/prod-shop created'], stderr: [], ok: true });
  t.equal(cluster.api.get('/api/v1/namespaces', undefined, 'prod-shop')?.metadata.annotations, undefined, 'Ignore: created without the baseline');
});

t.test('timeoutSeconds: a webhook that never answers is a failed call', async (t) => {
  const cluster = await install(t);
  // Accepts TCP and then says nothing, like a hung replica.
  const silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    silent.close();
  });
  const address = silent.address();
  const hungPort = typeof address === 'object' && address !== null ? address.port : 0;
  const configs = cluster.configurations().map((c) => ({ ...c, webhooks: c.webhooks.map((w: Record<string, any>) => ({ ...w, timeoutSeconds: 1 })) }));
  const result = await cluster.harness(configs, hungPort).apply('namespace.yaml', manifest('namespace.yaml'));
  t.match(result.stderr[0], /failed calling webhook "mutate\.netguard\.dev": failed to call webhook: Post "https:\/\/netguard\.netguard-system\.svc:443\/mutate\?timeout=1s": context deadline exceeded/);
});

t.test('the shipped matchCondition sends only GuardrailExceptions from netguard-system', async (t) => {
  const [expression] = ["request.namespace != 'netguard-system' || request.resource.resource == 'guardrailexceptions'"];
  const request = (namespace: string, resource: string) => ({ request: { namespace, resource: { resource } } });
  t.equal(evaluateMatchCondition(expression ?? '', request('prod-shop', 'pods')), true);
  t.equal(evaluateMatchCondition(expression ?? '', request('netguard-system', 'pods')), false);
  t.equal(evaluateMatchCondition(expression ?? '', request('netguard-system', 'guardrailexceptions')), true);
  t.throws(() => evaluateMatchCondition('object.metadata.labels.exists(x, x == "a")', {}), /cannot evaluate/);
});
