import { pino } from 'pino';
import t from 'tap';
import { startCache } from '../../src/kube/informer.ts';
import { kubeRest, type Shape } from '../../src/kube/rest.ts';
import { stringMap } from '../../src/labels.ts';
import { field } from '../../src/object-access.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { until } from '../helpers/until.ts';

const NAMESPACES = '/api/v1/namespaces';
const ns = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
});

t.test(
  'the cache lists, follows watch events, relists after 410 Gone and retries after a 500',
  async (t) => {
    const api = await startFakeKubeApi(t);
    api.seed(NAMESPACES, ns('prod-shop', { env: 'prod' }));
    api.failNext('GET', /^\/api\/v1\/namespaces$/, 500, 'InternalError');
    const delays: number[] = [];
    const cache = startCache({
      kubeConfig: api.kubeConfig(),
      rest: kubeRest(api.kubeConfig()),
      path: NAMESPACES,
      what: 'namespaces',
      logger: pino({ level: 'silent' }),
      delay: async (ms) => {
        delays.push(ms);
      },
    });
    await until(() => cache.ready(), 'first sync');
    t.same(delays, [1000], 'the 500 was retried after the initial backoff');
    const labels = (name: string) => stringMap(field(cache.get(name), 'metadata', 'labels'));
    t.equal(labels('prod-shop')['env'], 'prod');
    let resolved = false;
    void cache.synced().then(() => (resolved = true));
    await until(() => resolved, 'synced() resolves once synced');

    await api.watching(NAMESPACES);
    api.emit(NAMESPACES, 'ADDED', ns('dev-shop'));
    await until(() => cache.get('dev-shop') !== undefined, 'ADDED');
    api.emit(NAMESPACES, 'MODIFIED', ns('dev-shop', { team: 'a' }));
    await until(() => labels('dev-shop')['team'] === 'a', 'MODIFIED');
    api.emit(NAMESPACES, 'DELETED', ns('prod-shop'));
    await until(() => cache.get('prod-shop') === undefined, 'DELETED');

    const listsBefore = api.requests.filter(
      (r) => r.path === NAMESPACES && r.query.get('watch') === null,
    ).length;
    api.seed(NAMESPACES, ns('staging-shop'));
    api.expireWatches(NAMESPACES);
    await until(() => cache.get('staging-shop') !== undefined, 'relist after 410');
    const listsAfter = api.requests.filter(
      (r) => r.path === NAMESPACES && r.query.get('watch') === null,
    ).length;
    t.equal(listsAfter, listsBefore + 1, '410 Gone forced exactly one relist');
    t.ok(cache.ready(), 'still ready after the relist');
    await cache.stop();
  },
);

t.test('a cache stopped while its list is in flight opens no watch afterwards', async (t) => {
  const api = await startFakeKubeApi(t);
  api.seed(NAMESPACES, ns('prod-shop'));
  const rest = kubeRest(api.kubeConfig());
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  // The list answers only after stop(): the race in which ListWatch used to open a watch anyway.
  const slow = {
    ...rest,
    list: async <T>(path: string, shape: Shape<T>) => {
      await held;
      return rest.list(path, shape);
    },
  };
  const cache = startCache({
    kubeConfig: api.kubeConfig(),
    rest: slow,
    path: NAMESPACES,
    what: 'namespaces',
    logger: pino({ level: 'silent' }),
    delay: async () => undefined,
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const stopping = cache.stop();
  release();
  await stopping;
  await new Promise((resolve) => setTimeout(resolve, 200));
  const watches = api.requests.filter(
    (r) => r.path === NAMESPACES && r.query.get('watch') !== null,
  );
  t.same(watches, [], 'no watch request after stop()');
  t.notOk(cache.ready(), 'a stopped cache never reports ready');
});
