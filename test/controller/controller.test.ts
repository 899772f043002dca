import { pino } from 'pino';
import t, { type Test } from 'tap';
import { startClusterCache } from '../../src/kube/cluster-cache.ts';
import {
  startController,
  type ControllerOptions,
  type RunningController,
} from '../../src/kube/controller.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.ts';
import { baselineFloor } from '../../src/engine/environment.ts';
import { parseExceptionFile } from '../../src/exceptions/file-source.ts';
import { createRegistry } from '../../src/exceptions/registry.ts';
import { contextFor, shippedPolicy } from '../helpers/context.ts';
import { until } from '../helpers/until.ts';
import { GUARDRAILS_BY_ID } from '../../src/rules/guardrails.ts';

const NAMESPACES = '/api/v1/namespaces';
const POLICIES = '/apis/networking.k8s.io/v1/networkpolicies';
const LEASES = '/apis/coordination.k8s.io/v1/leases';
const MANAGED = { 'app.kubernetes.io/managed-by': 'netguard' };

const ns = (name: string, annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name }, annotations },
});
const ENFORCE = { 'netguard.dev/default-deny': 'Ingress,Egress', 'netguard.dev/allow-dns': 'true' };
const CONSTRAIN = { 'netguard.dev/default-deny': 'Ingress', 'netguard.dev/allow-dns': 'true' };

/** The NetworkPolicy writes as `METHOD namespace/name`, in order. */
function policyWrites(api: FakeKubeApi): string[] {
  return api
    .writes()
    .filter((w) => w.path.includes('/networkpolicies'))
    .map((w) => {
      const parts = w.path.split('/');
      const namespace = parts[5] ?? '';
      const name = w.method === 'POST' ? String(w.body?.['metadata']?.['name']) : (parts[7] ?? '');
      return `${w.method} ${namespace}/${name}`;
    });
}

interface Harness {
  readonly api: FakeKubeApi;
  readonly controller: RunningController;
  readonly retries: number[];
  readonly clock: { ms: number };
  /** Releases the elector's pending wait once (the next lease round). */
  nextLeaseRound(): void;
}

async function start(
  t: Test,
  seed: (api: FakeKubeApi) => void,
  more: Partial<ControllerOptions> & { cacheDelay?: (ms: number) => Promise<void> } = {},
): Promise<Harness> {
  const api = await startFakeKubeApi(t);
  seed(api);
  const retries: number[] = [];
  const clock = { ms: Date.parse('2026-11-22T12:00:00Z') };
  let release: () => void = () => undefined;
  const logger = pino({ level: process.env['LOG'] ?? 'silent' });
  const record = async (ms: number): Promise<void> => {
    retries.push(ms);
  };
  // The controller follows caches it did not start, as in `serve --controller`.
  const caches = startClusterCache({
    kubeConfig: api.kubeConfig(),
    logger,
    delay: more.cacheDelay ?? record,
  });
  t.teardown(() => caches.stop());
  const controller = startController({
    kubeConfig: api.kubeConfig(),
    caches,
    policy: shippedPolicy,
    logger,
    identity: 'replica-a',
    delay: record,
    leaderElection: {
      now: () => clock.ms,
      // The elector waits between rounds until the test releases it: no renew traffic, no sleeping.
      delay: () => new Promise<void>((resolve) => (release = resolve)),
    },
    ...more,
  });
  t.teardown(() => controller.stop());
  return { api, controller, retries, clock, nextLeaseRound: () => release() };
}

const policyIn = (api: FakeKubeApi, namespace: string, name: string) =>
  api.get(POLICIES, namespace, name) as
    | { metadata: { labels?: Record<string, string> }; spec: Record<string, unknown> }
    | undefined;

t.test(
  "a namespace with the enforce baseline gets allow-dns before default-deny, labelled as netguard's",
  async (t) => {
    const h = await start(t, (api) =>
      api.seed(
        NAMESPACES,
        ns('prod-shop', ENFORCE),
        ns('dev-shop', { 'netguard.dev/baseline': 'observe' }),
      ),
    );
    await until(() => policyWrites(h.api).length === 2, 'two creates');
    t.same(policyWrites(h.api), [
      'POST prod-shop/netguard-allow-dns',
      'POST prod-shop/netguard-default-deny',
    ]);
    const lease = h.api.writes().findIndex((w) => w.path.includes('/leases'));
    const firstPolicy = h.api.writes().findIndex((w) => w.path.includes('/networkpolicies'));
    t.ok(lease >= 0 && lease < firstPolicy, 'the lease was taken before any policy write');
    const dns = policyIn(h.api, 'prod-shop', 'netguard-allow-dns');
    t.same(dns?.metadata.labels, MANAGED);
    t.same(dns?.spec, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    });
    t.same(policyIn(h.api, 'prod-shop', 'netguard-default-deny')?.spec, {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
    t.equal(h.api.list(POLICIES, 'dev-shop').length, 0, 'observe namespaces get no policies');
  },
);

t.test(
  'Ingress becomes Ingress,Egress: allow-dns first, then the deny widened, then the same-namespace allow removed',
  async (t) => {
    const h = await start(t, (api) => api.seed(NAMESPACES, ns('staging-shop', CONSTRAIN)));
    await until(() => policyWrites(h.api).length === 2, 'constrain baseline');
    t.same(
      policyWrites(h.api),
      [
        'POST staging-shop/netguard-allow-same-namespace',
        'POST staging-shop/netguard-default-deny',
      ],
      'constrain: no DNS policy, since Egress is not isolated',
    );
    t.same(policyIn(h.api, 'staging-shop', 'netguard-allow-same-namespace')?.spec, {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: {} }] }],
    });

    await h.api.watching(NAMESPACES);
    h.api.emit(NAMESPACES, 'MODIFIED', ns('staging-shop', ENFORCE));
    await until(() => policyWrites(h.api).length === 5, 'the change');
    t.same(policyWrites(h.api).slice(2), [
      'POST staging-shop/netguard-allow-dns',
      'PUT staging-shop/netguard-default-deny',
      'DELETE staging-shop/netguard-allow-same-namespace',
    ]);
    t.same(policyIn(h.api, 'staging-shop', 'netguard-default-deny')?.spec, {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
    const put = h.api
      .writes()
      .find((w) => w.method === 'PUT' && w.path.includes('networkpolicies'));
    t.match(
      put?.body?.['metadata']?.['resourceVersion'],
      /^\d+$/,
      'the update carries the resourceVersion it read',
    );
  },
);

t.test('a managed policy deleted or edited by someone is restored', async (t) => {
  const h = await start(t, (api) => api.seed(NAMESPACES, ns('prod-shop', ENFORCE)));
  await until(() => policyWrites(h.api).length === 2, 'baseline');
  await h.api.watching(POLICIES);
  const deny = policyIn(h.api, 'prod-shop', 'netguard-default-deny');
  h.api.emit(POLICIES, 'DELETED', {
    ...deny,
    metadata: { ...deny?.metadata, name: 'netguard-default-deny', namespace: 'prod-shop' },
  });
  await until(() => policyWrites(h.api).length === 3, 'recreate');
  t.same(policyWrites(h.api)[2], 'POST prod-shop/netguard-default-deny');

  const dns = policyIn(h.api, 'prod-shop', 'netguard-allow-dns');
  h.api.emit(POLICIES, 'MODIFIED', {
    ...dns,
    spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] },
  });
  await until(() => policyWrites(h.api).length === 4, 'repair');
  t.same(policyWrites(h.api)[3], 'PUT prod-shop/netguard-allow-dns');
  t.same((policyIn(h.api, 'prod-shop', 'netguard-allow-dns')?.spec['egress'] as unknown[])[0], {
    to: [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ],
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  });
});

t.test(
  'a squatted baseline name is taken back, with an Event; other netguard-* policies are never touched',
  async (t) => {
    const squatted = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: 'netguard-allow-same-namespace',
        namespace: 'staging-shop',
        labels: { team: 'shop' },
      },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }],
      },
    };
    const extra = { ...squatted, metadata: { ...squatted.metadata, name: 'netguard-legacy' } };
    const h = await start(t, (api) => {
      api.seed(NAMESPACES, ns('staging-shop', CONSTRAIN), ns('prod-shop', ENFORCE));
      api.seed(POLICIES, squatted, extra);
    });
    await until(() => policyWrites(h.api).length === 4, 'baselines');
    t.same(
      policyWrites(h.api).filter((w) => w.includes('staging-shop')),
      ['PUT staging-shop/netguard-allow-same-namespace', 'POST staging-shop/netguard-default-deny'],
      'the squatted name is replaced (resourceVersion-checked), before the deny',
    );
    const taken = policyIn(h.api, 'staging-shop', 'netguard-allow-same-namespace');
    t.same(taken?.metadata.labels, MANAGED, "now netguard's");
    t.same(
      taken?.spec,
      { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] },
      "the real baseline, not the squatter's rule",
    );
    const events = h.api
      .writes()
      .filter((w) => w.path === '/api/v1/namespaces/staging-shop/events');
    t.equal(events.length, 1, 'one Event says why');
    t.equal(events[0]?.body?.['reason'], 'BaselineNameTakenBack');
    t.equal(events[0]?.body?.['type'], 'Warning');
    t.equal(
      h.api.get(POLICIES, 'staging-shop', 'netguard-legacy')?.['spec']?.['ingress']?.[0]?.[
        'from'
      ]?.[0]?.['podSelector']?.['matchLabels']?.['app'],
      'web',
      'an unreserved netguard-* name is not ours',
    );

    await h.api.watching(NAMESPACES);
    h.api.emit(NAMESPACES, 'MODIFIED', ns('prod-shop'));
    h.api.emit(NAMESPACES, 'MODIFIED', ns('staging-shop'));
    await until(() => policyWrites(h.api).length === 8, 'removals');
    t.same(policyWrites(h.api).slice(4), [
      'DELETE prod-shop/netguard-default-deny',
      'DELETE prod-shop/netguard-allow-dns',
      'DELETE staging-shop/netguard-default-deny',
      'DELETE staging-shop/netguard-allow-same-namespace',
    ]);
    t.same(
      h.api
        .list(POLICIES, 'staging-shop')
        .map((p) => p['metadata']['name'])
        .sort(),
      ['netguard-legacy'],
    );
    t.equal(h.api.list(POLICIES, 'prod-shop').length, 0);
  },
);

t.test(
  'while another replica holds a live lease nothing is written; once it lapses on our clock, we take over',
  async (t) => {
    const h = await start(t, (api) => {
      api.seed(NAMESPACES, ns('prod-shop', ENFORCE));
      api.seed('/apis/coordination.k8s.io/v1/leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'netguard-controller', namespace: 'netguard-system' },
        spec: {
          holderIdentity: 'replica-b',
          leaseDurationSeconds: 15,
          renewTime: '2026-11-22T12:00:00.000000Z',
          leaseTransitions: 3,
        },
      });
    });
    await until(() => h.api.requests.some((r) => r.path.includes('/leases/')), 'a lease read');
    await h.api.watching(NAMESPACES);
    t.same(h.api.writes(), [], 'no writes at all: not the lease, not a policy');
    t.notOk(h.controller.isLeader());

    h.clock.ms += 16_000;
    h.nextLeaseRound();
    await until(() => policyWrites(h.api).length === 2, 'takeover');
    const lease = h.api.get(LEASES, 'netguard-system', 'netguard-controller') as {
      spec: Record<string, unknown>;
    };
    t.equal(lease.spec['holderIdentity'], 'replica-a');
    t.equal(lease.spec['leaseTransitions'], 4);
    t.equal(
      lease.spec['renewTime'],
      '2026-11-22T12:00:16.000000Z',
      'MicroTime, as the API server wants it',
    );
    t.same(h.api.writes()[0]?.method, 'PUT', 'the takeover is a resourceVersion-checked update');
    t.match(h.api.writes()[0]?.body?.['metadata'], { resourceVersion: /^\d+$/ });
  },
);

t.test(
  '409 Conflict rereads and retries at once; 500 backs off; 410 Gone relists and repairs what the watch missed',
  async (t) => {
    const h = await start(t, (api) => {
      api.seed(NAMESPACES, ns('prod-shop', ENFORCE));
      api.failNext('POST', /\/namespaces\/prod-shop\/networkpolicies$/, 500, 'InternalError');
    });
    await until(() => policyWrites(h.api).length === 3, 'baseline after a 500');
    t.same(policyWrites(h.api), [
      'POST prod-shop/netguard-allow-dns',
      'POST prod-shop/netguard-allow-dns',
      'POST prod-shop/netguard-default-deny',
    ]);
    t.same(
      h.retries.filter((ms) => ms === 1000).length >= 1,
      true,
      'the 500 was retried after the initial backoff',
    );
    t.notOk(
      policyWrites(h.api).slice(0, 2).includes('POST prod-shop/netguard-default-deny'),
      'no deny while DNS could not be allowed',
    );

    await h.api.watching(NAMESPACES);
    h.api.failNext('PUT', /netguard-default-deny$/, 409, 'Conflict');
    h.api.emit(
      NAMESPACES,
      'MODIFIED',
      ns('prod-shop', { ...ENFORCE, 'netguard.dev/default-deny': 'Egress' }),
    );
    await until(() => policyWrites(h.api).length === 5, 'conflict retried');
    t.same(policyWrites(h.api).slice(3), [
      'PUT prod-shop/netguard-default-deny',
      'PUT prod-shop/netguard-default-deny',
    ]);
    t.same(policyIn(h.api, 'prod-shop', 'netguard-default-deny')?.spec, {
      podSelector: {},
      policyTypes: ['Egress'],
    });

    await h.api.watching(POLICIES);
    h.api.expireWatches(POLICIES);
    // Deleted while no watch was open: only the relist after 410 Gone can notice.
    h.api.emit(POLICIES, 'DELETED', {
      metadata: { name: 'netguard-allow-dns', namespace: 'prod-shop' },
    });
    await until(() => policyWrites(h.api).length === 6, 'repair after relist');
    t.same(policyWrites(h.api)[5], 'POST prod-shop/netguard-allow-dns');
  },
);

t.test('nothing is reconciled until both caches have synced', async (t) => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const h = await start(
    t,
    (api) => {
      api.seed(NAMESPACES, ns('prod-shop', ENFORCE));
      // The NetworkPolicy cache's first list fails; its retry waits for the gate.
      api.failNext(
        'GET',
        /^\/apis\/networking\.k8s\.io\/v1\/networkpolicies$/,
        503,
        'ServiceUnavailable',
      );
    },
    { cacheDelay: () => gate },
  );
  await h.api.watching(NAMESPACES);
  await until(() => h.controller.isLeader(), 'the lease');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.same(policyWrites(h.api), [], 'leader, namespaces synced, NetworkPolicies not: no writes');
  release();
  await until(() => policyWrites(h.api).length === 2, 'the baseline after the sync');
  t.same(policyWrites(h.api), [
    'POST prod-shop/netguard-allow-dns',
    'POST prod-shop/netguard-default-deny',
  ]);
});

t.test('a periodic resync repairs drift that no watch event reported', async (t) => {
  const h = await start(t, (api) => api.seed(NAMESPACES, ns('prod-shop', ENFORCE)), {
    resyncMs: 50,
  });
  await until(() => policyWrites(h.api).length === 2, 'baseline');
  // Changed in the store behind every watch's back (as a missed event would leave it).
  const stored = h.api.get(POLICIES, 'prod-shop', 'netguard-allow-dns');
  if (stored === undefined) throw new Error('no allow-dns');
  stored['spec'] = { podSelector: {}, policyTypes: ['Egress'], egress: [{}] };
  await until(() => policyWrites(h.api).length === 3, 'the resync');
  t.same(policyWrites(h.api)[2], 'PUT prod-shop/netguard-allow-dns');
  t.same(
    (policyIn(h.api, 'prod-shop', 'netguard-allow-dns')?.spec['egress'] as unknown[]).length,
    1,
  );
});

t.test(
  'nothing is recreated in a namespace being deleted, even before the cache has seen its deletion',
  async (t) => {
    const h = await start(t, (api) => api.seed(NAMESPACES, ns('prod-shop', ENFORCE)));
    await until(() => policyWrites(h.api).length === 2, 'baseline');
    await h.api.watching(POLICIES);
    // `kubectl delete namespace`: the API server sets deletionTimestamp; the watch has not told us yet.
    h.api.seed(NAMESPACES, {
      ...ns('prod-shop', ENFORCE),
      metadata: {
        ...ns('prod-shop', ENFORCE).metadata,
        deletionTimestamp: '2026-11-22T12:00:00Z',
      },
    });
    const before = h.controller.reconciled();
    const deny = policyIn(h.api, 'prod-shop', 'netguard-default-deny');
    h.api.emit(POLICIES, 'DELETED', {
      ...deny,
      metadata: { ...deny?.metadata, name: 'netguard-default-deny', namespace: 'prod-shop' },
    });
    await until(() => h.controller.reconciled() > before, 'the namespace reconciled');
    t.same(
      policyWrites(h.api),
      ['POST prod-shop/netguard-allow-dns', 'POST prod-shop/netguard-default-deny'],
      'the namespace controller deleted the baseline; netguard did not put it back',
    );
    t.ok(
      h.api.requests.some((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/prod-shop'),
      'the namespace was read fresh before writing',
    );
  },
);

t.test(
  "after an NS003 waiver expires the namespace keeps its own environment's baseline, and the Namespace is not written",
  async (t) => {
    const labelled = {
      ...ns('prod-payments', { 'netguard.dev/baseline': 'observe' }),
      metadata: {
        ...ns('prod-payments', { 'netguard.dev/baseline': 'observe' }).metadata,
        labels: {
          'kubernetes.io/metadata.name': 'prod-payments',
          'netguard.dev/environment': 'development',
        },
      },
    };
    const now = new Date();
    const waiver = `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: payments-to-dev, namespace: netguard-system}
spec:
  rules: [NS003]
  target: {kind: Namespace, name: prod-payments}
  reason: Load tests against a staging copy of the ledger
  owner: team-pay@example.com
  expires: "${new Date(now.getTime() + 5 * 86_400_000).toISOString()}"
`;
    const registry = createRegistry([
      () => parseExceptionFile(waiver, 'exceptions.yaml', GUARDRAILS_BY_ID),
    ]);
    let clock = now;
    const h = await start(t, (api) => api.seed(NAMESPACES, labelled), {
      baselineFloor: (namespace) =>
        baselineFloor(
          namespace,
          contextFor({
            now: clock,
            waivers: registry.view(shippedPolicy().exceptions.warnBeforeMs),
          }),
        ),
    });
    await until(() => h.controller.reconciled() >= 1, 'first pass');
    t.same(policyWrites(h.api), [], 'under the waiver: development, observe, no policies');

    clock = new Date(now.getTime() + 6 * 86_400_000);
    h.controller.requeueAll();
    await until(() => policyWrites(h.api).length === 2, 'the baseline of production');
    t.same(policyWrites(h.api), [
      'POST prod-payments/netguard-allow-dns',
      'POST prod-payments/netguard-default-deny',
    ]);
    t.same(policyIn(h.api, 'prod-payments', 'netguard-default-deny')?.spec['policyTypes'], [
      'Ingress',
      'Egress',
    ]);
    t.notOk(
      h.api
        .writes()
        .some(
          (w) =>
            w.path.startsWith('/api/v1/namespaces/prod-payments') &&
            !w.path.includes('/networkpolicies') &&
            !w.path.includes('/events'),
        ),
      'the Namespace itself is never written',
    );
  },
);

t.test(
  'a leader whose watches have been silent for 5 minutes stops renewing its lease and is told to exit',
  async (t) => {
    let skew = 0;
    let dead = 0;
    const h = await start(t, (api) => api.seed(NAMESPACES, ns('prod-shop', ENFORCE)), {
      now: () => Date.now() + skew,
      onWatchesDead: () => void (dead += 1),
    });
    await until(() => policyWrites(h.api).length === 2, 'baseline');
    // The reconcile counts as a success once it returns, a moment after its last write.
    await until(() => (h.controller.status().lastSuccessMs ?? 0) > 0, 'a last success recorded');
    t.ok(h.controller.isLeader());
    t.match(h.controller.status(), { leader: true, synced: true, reconciles: { error: 0 } });
    const leaseWrites = () => h.api.writes().filter((w) => w.path.includes('/leases')).length;
    const before = leaseWrites();

    skew = 5 * 60_000 + 1_000; // no event, bookmark or relist since
    h.clock.ms += 20_000;
    h.nextLeaseRound();
    await until(() => dead === 1, 'told once');
    t.equal(leaseWrites(), before, 'the lease is not renewed');
    t.notOk(h.controller.isLeader(), 'leadership lapses after the renew deadline');
    t.equal(h.controller.status().leader, false);
  },
);
