import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { startWorld } from '../../src/live-world.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { LAB_POLICY } from '../helpers/context.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.ts';
import { loadFixture, reviewFor } from '../helpers/reviews.ts';
import { until } from '../helpers/until.ts';
import { startWebhook } from '../helpers/webhook.ts';

const NOW = new Date();
const tenant = { username: 'alice@example.com', groups: ['system:authenticated'] };
const platform = { username: 'ops', groups: ['system:masters', 'system:authenticated'] };

const PLURAL: Record<string, string> = {
  Namespace: 'namespaces',
  NetworkSet: 'networksets',
  NetworkPolicy: 'networkpolicies',
  CiliumCIDRGroup: 'ciliumcidrgroups',
  CiliumNetworkPolicy: 'ciliumnetworkpolicies',
  GlobalNetworkPolicy: 'globalnetworkpolicies',
};

/** The collection an object is listed from: `/apis/projectcalico.org/v3/networksets`. */
function collectionOf(object: KubeObject): string {
  const apiVersion = String(object['apiVersion']);
  const plural = PLURAL[String(object['kind'])];
  return apiVersion === 'v1' ? `/api/v1/${plural}` : `/apis/${apiVersion}/${plural}`;
}

interface Live {
  readonly api: FakeKubeApi;
  post(object: KubeObject, options?: Parameters<typeof reviewFor>[1]): Promise<Reply>;
}

interface Reply {
  allowed: boolean;
  status?: { message: string };
  warnings?: string[];
}

/** The fake API server holding the fixture, `serve`'s live world over it, and the HTTPS webhook. */
async function liveCluster(t: Test): Promise<Live> {
  const api = await startFakeKubeApi(t);
  for (const object of loadFixture('test/fixtures/dialects/live-sets.yaml'))
    api.seed(collectionOf(object), object);
  const dir = mkdtempSync(join(tmpdir(), 'netguard-sets-'));
  writeFileSync(join(dir, 'exceptions.yaml'), '');
  const world = startWorld({
    config: LAB_POLICY,
    exceptions: join(dir, 'exceptions.yaml'),
    logger: pino({ level: 'silent' }),
    kubeConfig: api.kubeConfig(),
  });
  t.teardown(() => world.close());
  const cluster = () => world.context(NOW).cluster;
  await until(
    () =>
      world.notReady().length === 0 &&
      cluster().dialectObjects?.('NetworkSet', 'prod-shop')?.length === 2 &&
      cluster().dialectObjects?.('CiliumCIDRGroup')?.length === 1 &&
      cluster().dialectObjects?.('CiliumNetworkPolicy', 'prod-shop')?.length === 2 &&
      cluster().dialectObjects?.('GlobalNetworkPolicy')?.length === 1 &&
      cluster().dialectObjects?.('NetworkPolicy.projectcalico.org', 'prod-shop')?.length === 1,
    'the dialect caches synced',
  );
  const webhook = await startWebhook(t, { context: () => world.context(NOW) });
  return {
    api,
    async post(object, options = {}) {
      const reply = await webhook.post(
        '/validate',
        reviewFor(object, { user: tenant, ...options }),
      );
      t.equal(reply.status, 200);
      return reply.json().response as Reply;
    },
  };
}

const cached = (api: FakeKubeApi, collection: string, name: string, namespace?: string) => {
  const object = api.get(collection, namespace, name);
  if (object === undefined) throw new Error(`${name} is not in the fake API server`);
  return object as KubeObject;
};

t.test('a NetworkSet write is judged as part of every cached policy that selects it', async (t) => {
  const { api, post } = await liveCluster(t);
  const old = cached(api, '/apis/projectcalico.org/v3/networksets', 'partners', 'prod-shop');
  const opened = { ...old, spec: { nets: ['0.0.0.0/0'] } };

  const denied = await post(opened, { operation: 'UPDATE', oldObject: old });
  t.equal(denied.allowed, false, 'the set now opens the internet through to-partners');
  t.match(
    denied.status?.message,
    /^NetworkSet prod-shop\/partners violates 1 guardrail \(environment production, mode enforce\):\n- NP004 world-egress at spec\.nets: NetworkPolicy\.projectcalico\.org prod-shop\/to-partners names this set at spec\.egress\[0\]\.destination\.selector: NetworkSet partners \(0\.0\.0\.0\/0\) lets these pods reach any address on the internet\./,
  );

  const partner = await post(
    { ...old, spec: { nets: ['160.79.104.0/24', '160.79.105.0/24'] } },
    { operation: 'UPDATE', oldObject: old },
  );
  t.equal(partner.allowed, true, 'approved ranges only: admitted');
  t.same(partner.warnings ?? [], []);

  const unused = cached(api, '/apis/projectcalico.org/v3/networksets', 'unused', 'prod-shop');
  const spare = await post(
    { ...unused, spec: { nets: ['0.0.0.0/0'] } },
    {
      operation: 'UPDATE',
      oldObject: unused,
    },
  );
  t.equal(spare.allowed, true, 'a set no policy selects opens nothing');

  const fresh = await post({
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkSet',
    metadata: { name: 'more-partners', namespace: 'prod-shop', labels: { role: 'partner' } },
    spec: { nets: ['0.0.0.0/1', '128.0.0.0/1'] },
  });
  t.equal(fresh.allowed, false, 'a new set the selector matches joins the policy too');
  t.match(
    fresh.status?.message,
    /NP004 world-egress at spec\.nets: NetworkPolicy\.projectcalico\.org prod-shop\/to-partners names this set/,
  );
});

t.test(
  'a policy selecting a cached NetworkSet is judged with the addresses the set holds',
  async (t) => {
    const { api, post } = await liveCluster(t);
    const policy = cached(
      api,
      '/apis/projectcalico.org/v3/networkpolicies',
      'to-partners',
      'prod-shop',
    );
    const narrow = await post(policy, { operation: 'UPDATE', oldObject: policy });
    t.equal(narrow.allowed, true, 'the set holds the approved partner range only');

    const old = cached(api, '/apis/projectcalico.org/v3/networksets', 'partners', 'prod-shop');
    api.emit('/apis/projectcalico.org/v3/networksets', 'MODIFIED', {
      ...old,
      spec: { nets: ['0.0.0.0/0'] },
    });
    const world = await (async () => {
      let reply: Reply | undefined;
      await until(async () => {
        reply = await post({
          ...policy,
          metadata: { ...(policy['metadata'] as object), name: 'again' },
        });
        return reply.allowed === false;
      }, 'the cache holds the changed set');
      return reply;
    })();
    t.match(
      world?.status?.message,
      /NP004 world-egress at spec\.egress\[0\]\.destination\.selector: NetworkSet partners \(0\.0\.0\.0\/0\) lets these pods reach any address on the internet\./,
    );
  },
);

t.test('a CNP cidrGroupRef is judged with the CIDR group the cache holds', async (t) => {
  const { api, post } = await liveCluster(t);
  const policy = cached(
    api,
    '/apis/cilium.io/v2/ciliumnetworkpolicies',
    'crawler-out',
    'prod-shop',
  );
  t.equal((await post(policy)).allowed, true, 'partner-ranges holds the approved range only');

  const unknown = await post({
    ...policy,
    spec: {
      ...(policy['spec'] as object),
      egress: [
        {
          toCIDRSet: [{ cidrGroupRef: 'not-there' }],
          toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }],
        },
        (policy['spec'] as { egress: unknown[] }).egress[1],
      ],
    },
  });
  t.equal(unknown.allowed, false, 'a group the cache does not hold counts as every address');
  t.match(
    unknown.status?.message,
    /NP004 world-egress at spec\.egress\[0\]\.toCIDRSet\[0\]: CIDR group not-there \(not in netguard's cache of CIDR groups, so counted as every address\) lets these pods reach any address on the internet\./,
  );

  const group = cached(api, '/apis/cilium.io/v2alpha1/ciliumcidrgroups', 'partner-ranges');
  const widened = await post(
    { ...group, spec: { externalCIDRs: ['0.0.0.0/0'] } },
    {
      operation: 'UPDATE',
      oldObject: group,
      user: platform,
    },
  );
  t.equal(
    widened.allowed,
    false,
    'even the platform team: the group opens the internet to a tenant policy',
  );
  t.match(
    widened.status?.message,
    /NP004 world-egress at spec\.externalCIDRs: CiliumNetworkPolicy prod-shop\/crawler-out names this set at spec\.egress\[0\]\.toCIDRSet\[0\]: CIDR group partner-ranges lets these pods reach any address on the internet\./,
  );
  t.notMatch(widened.status?.message, /NP014/, 'the platform team may write it');
});

t.test(
  'the cached dialect policies are neighbours: a union across dialects, and Calico order',
  async (t) => {
    const { post } = await liveCluster(t);
    const highHalf = await post({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'high-half', namespace: 'prod-shop' },
      spec: {
        podSelector: { matchLabels: { app: 'api', tier: 'backend' } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ ipBlock: { cidr: '52.128.0.0/9' } }],
            ports: [{ protocol: 'TCP', port: 8443 }],
          },
        ],
      },
    });
    t.equal(highHalf.allowed, false, 'with the cached CiliumNetworkPolicy: a public /8');
    t.match(
      highHalf.status?.message,
      /NP012 world-ingress at spec\.ingress: with CiliumNetworkPolicy low-half \(which selects these pods too\), these ipBlocks reach the internet/,
    );

    const legacy = (selector: string) =>
      post({
        apiVersion: 'projectcalico.org/v3',
        kind: 'NetworkPolicy',
        metadata: { name: 'legacy-out', namespace: 'prod-shop' },
        spec: {
          order: 100,
          selector,
          types: ['Egress'],
          egress: [
            {
              action: 'Allow',
              protocol: 'TCP',
              destination: { nets: ['0.0.0.0/0'], ports: [443] },
            },
            {
              action: 'Allow',
              protocol: 'UDP',
              destination: {
                ports: [53],
                selector: "k8s-app == 'kube-dns'",
                namespaceSelector: "projectcalico.org/name == 'kube-system'",
              },
            },
            {
              action: 'Allow',
              protocol: 'TCP',
              destination: {
                ports: [53],
                selector: "k8s-app == 'kube-dns'",
                namespaceSelector: "projectcalico.org/name == 'kube-system'",
              },
            },
          ],
        },
      });
    const denied = await legacy("app == 'legacy'");
    t.equal(denied.allowed, true, 'the cached order-10 Deny comes first: the Allow opens nothing');
    const other = await legacy("app == 'modern'");
    t.equal(other.allowed, false, 'pods the earlier Deny does not select: the internet');
    t.match(
      other.status?.message,
      /NP004 world-egress at spec\.egress\[0\]\.destination\.nets\[0\]: 0\.0\.0\.0\/0 lets these pods reach any address on the internet/,
    );
  },
);
