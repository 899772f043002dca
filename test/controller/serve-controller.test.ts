import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { serve } from '../../src/cli/serve.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.ts';
import { localCertificates } from '../helpers/tls.ts';
import { until } from '../helpers/until.ts';

const NAMESPACES = '/api/v1/namespaces';
const POLICIES = '/apis/networking.k8s.io/v1/networkpolicies';

const watchesOf = (api: FakeKubeApi, path: string): number =>
  api.requests.filter((r) => r.path === path && r.query.get('watch') === 'true').length;
const policyWrites = (api: FakeKubeApi): string[] =>
  api
    .writes()
    .filter((w) => w.path.includes('/networkpolicies'))
    .map((w) => `${w.method} ${w.path.split('/').slice(5).join('/')}`);

t.test(
  'serve --controller: one set of informers for webhook and controller; a policy reload requeues every namespace',
  async (t) => {
    const api = await startFakeKubeApi(t);
    api.seed(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'prod-shop',
        labels: { 'kubernetes.io/metadata.name': 'prod-shop' },
        annotations: {
          'netguard.dev/default-deny': 'Ingress,Egress',
          'netguard.dev/allow-dns': 'true',
        },
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'netguard-serve-controller-'));
    const config = join(dir, 'guardrails.yaml');
    copyFileSync('policies/guardrails.yaml', config);
    writeFileSync(join(dir, 'exceptions.yaml'), '');
    const running = await serve({
      config,
      exceptions: join(dir, 'exceptions.yaml'),
      port: 0,
      metricsPort: 0,
      host: '127.0.0.1',
      certs: localCertificates().dir,
      kubeconfig: api.kubeconfigPath,
      controller: true,
      drainSeconds: 0,
      logLevel: process.env['LOG'] === undefined ? 'silent' : 'debug',
    });
    t.teardown(() => running.close());
    await until(() => policyWrites(api).length === 2, 'the baseline');
    t.same(policyWrites(api), ['POST prod-shop/networkpolicies', 'POST prod-shop/networkpolicies']);
    t.equal(watchesOf(api, NAMESPACES), 1, 'one Namespace watch in the process');
    t.equal(watchesOf(api, POLICIES), 1, 'one NetworkPolicy watch in the process');

    // The cluster's DNS pods are relabelled in the policy: every baseline must follow.
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('k8s-app: kube-dns', 'k8s-app: coredns'),
    );
    await until(() => policyWrites(api).length === 3, 'the requeue after the reload');
    t.same(policyWrites(api)[2], 'PUT prod-shop/networkpolicies/netguard-allow-dns');
    t.match(api.get(POLICIES, 'prod-shop', 'netguard-allow-dns'), {
      spec: { egress: [{ to: [{ podSelector: { matchLabels: { 'k8s-app': 'coredns' } } }] }] },
    });
  },
);
