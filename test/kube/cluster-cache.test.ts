import { pino } from 'pino';
import t from 'tap';
import { validate } from '../../src/engine/evaluate.ts';
import { startClusterCache } from '../../src/kube/cluster-cache.ts';
import { decodeReview } from '../../src/admission/decode.ts';
import { contextFor } from '../helpers/context.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { injectableApp } from '../helpers/app.ts';
import { until } from '../helpers/until.ts';

const NAMESPACES = '/api/v1/namespaces';
const POLICIES = '/apis/networking.k8s.io/v1/networkpolicies';

const shop = (labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop', ...labels } },
});

function environmentOf(cluster: ReturnType<typeof startClusterCache>): string | undefined {
  const deployment = loadOne('test/fixtures/workloads/deployment-labelled.yaml');
  const decoded = decodeReview(
    reviewFor({
      ...deployment,
      metadata: { ...(deployment['metadata'] as object), namespace: 'shop' },
    }),
  );
  if (!decoded.ok) throw new Error(decoded.problems.join('\n'));
  return validate(decoded.input, { ...contextFor(), cluster: cluster.view }).environment;
}

t.test(
  'environments resolve from cached namespace labels; NetworkPolicies are listed per namespace',
  async (t) => {
    const api = await startFakeKubeApi(t);
    api.seed(NAMESPACES, shop({ env: 'prod' }));
    api.seed(POLICIES, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'dns', namespace: 'shop' },
      spec: { podSelector: {}, egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] },
    });
    const cluster = startClusterCache({
      kubeConfig: api.kubeConfig(),
      logger: pino({ level: 'silent' }),
    });
    t.teardown(() => cluster.stop());
    await until(() => cluster.notReady().length === 0, 'first sync');
    t.equal(environmentOf(cluster), 'production', 'selector env=prod from the cached labels');
    t.same(
      cluster.view.networkPolicies('shop').map((p) => p.name),
      ['dns'],
    );
    const [dns] = cluster.view.networkPolicies('shop');
    t.same(
      dns?.egress[0]?.ports,
      [{ protocol: 'UDP', port: 53, endPort: undefined }],
      'parsed from raw JSON (`from`, not `_from`)',
    );
    t.equal(cluster.view.networkPolicies('shop')[0], dns, 'parsed once, not per review');
    t.same(
      cluster.view.namespaceWideEgressPolicies('shop').map((p) => p.name),
      ['dns'],
      'indexed as a DNS-relevant neighbour',
    );
    const requestsBefore = api.requests.length;
    environmentOf(cluster);
    t.equal(api.requests.length, requestsBefore, 'no API call per review');

    await api.watching(NAMESPACES);
    api.emit(NAMESPACES, 'MODIFIED', shop({ 'netguard.dev/environment': 'staging' }));
    await until(() => environmentOf(cluster) === 'staging', 'label change followed');
    t.pass('a relabelled namespace moves environment without a restart');
  },
);

t.test(
  'API server unreachable: 503 before the first sync, last state served after it',
  async (t) => {
    const api = await startFakeKubeApi(t);
    api.seed(NAMESPACES, shop({ env: 'prod' }));
    // The first lists fail as if the API server were down; backoff waits are recorded, never slept.
    api.failNext('GET', /^\/api\/v1\/namespaces$/, 503, 'ServiceUnavailable', 2);
    const waits: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const cluster = startClusterCache({
      kubeConfig: api.kubeConfig(),
      logger: pino({ level: 'silent' }),
      delay: async (ms) => {
        waits.push(ms);
        await gate;
      },
    });
    t.teardown(() => cluster.stop());
    const app = injectableApp({
      notReady: () => cluster.notReady(),
      context: () => ({ ...contextFor(), cluster: cluster.view }),
    });
    t.teardown(() => app.close());
    await until(() => waits.length > 0, 'first failure');
    const before = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(before.statusCode, 503);
    t.ok(
      before.json().waiting.includes('namespaces cache not synced'),
      'says which cache it waits for',
    );
    release();
    await until(() => cluster.notReady().length === 0, 'sync after the API server came back');
    t.same(waits.slice(0, 2), [1000, 2000], 'exponential backoff');
    t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);

    // Now the API server goes away for good: every request fails, open watches end.
    api.failNext('GET', /.*/, 503, 'ServiceUnavailable', 1_000_000);
    api.expireWatches(NAMESPACES);
    api.expireWatches(POLICIES);
    await until(() => waits.length > 2, 'reconnect attempts');
    t.equal(
      environmentOf(cluster),
      'production',
      'the last known labels still resolve the environment',
    );
    t.equal(
      (await app.inject({ method: 'GET', url: '/readyz' })).statusCode,
      200,
      'a synced replica stays ready',
    );
  },
);
