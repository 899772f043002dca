import t, { type Test } from 'tap';
import { runAudit } from '../../src/cli/audit.ts';
import { runReach, type ReachOptions } from '../../src/cli/reach.ts';
import { readManifests } from '../../src/manifests.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.ts';

const SHOP = 'test/fixtures/reach/shop';
const COLLECTIONS: Record<string, string> = {
  Namespace: '/api/v1/namespaces',
  Deployment: '/apis/apps/v1/deployments',
  StatefulSet: '/apis/apps/v1/statefulsets',
  NetworkPolicy: '/apis/networking.k8s.io/v1/networkpolicies',
};

/** The recorded shop served as list responses, plus whatever policies a test adds. */
async function shopCluster(
  t: Test,
  policies: Record<string, unknown>[] = [],
): Promise<FakeKubeApi> {
  const api = await startFakeKubeApi(t);
  const objects = [
    ...readManifests([`${SHOP}/cluster.yaml`], () => '').manifests.map((m) => m.object),
    ...policies,
  ];
  for (const object of objects) {
    const collection = COLLECTIONS[String(object['kind'])];
    if (collection === undefined) throw new Error(`no collection for ${String(object['kind'])}`);
    const { kind: _kind, apiVersion: _apiVersion, ...item } = object;
    api.seed(collection, item);
  }
  return api;
}

const reachOptions = (api: FakeKubeApi, extra: Partial<ReachOptions>): ReachOptions => ({
  protocol: 'TCP',
  asEnforced: false,
  output: 'json',
  config: 'policies/guardrails.yaml',
  kubeconfig: api.kubeconfigPath,
  ...extra,
});

async function reach(options: ReachOptions): Promise<string> {
  let out = '';
  await runReach(options, { stdout: (text) => (out += text), stdin: () => '' });
  return out;
}

t.test(
  'reach over a cluster: one list, the question answered with the policies that decide',
  async (t) => {
    const allowApi = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'api-from-frontend', namespace: 'prod-shop' },
      spec: {
        podSelector: { matchLabels: { app: 'api' } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { app: 'frontend' } } }],
            ports: [{ port: 'https' }],
          },
        ],
      },
    };
    const api = await shopCluster(t, [allowApi]);
    const question = { from: 'prod-shop/frontend', to: 'prod-shop/api', port: 8443 };
    t.same(JSON.parse(await reach(reachOptions(api, question))), {
      allowed: true,
      egress: { allowed: true, policies: [] },
      ingress: { allowed: true, policies: ['api-from-frontend'] },
    });
    t.same(
      JSON.parse(await reach(reachOptions(api, { ...question, asEnforced: true }))),
      {
        allowed: false,
        egress: { allowed: false, policies: ['netguard-allow-dns', 'netguard-default-deny'] },
        ingress: { allowed: true, policies: ['api-from-frontend'] },
      },
      "as enforced, the frontend's egress is cut; the api's ingress still admits it",
    );
    t.same(
      JSON.parse(
        await reach(
          reachOptions(api, { from: 'prod-payments/payments', to: 'prod-shop/api', port: 8443 }),
        ),
      ),
      {
        allowed: false,
        egress: { allowed: true, policies: [] },
        ingress: { allowed: false, policies: ['api-from-frontend'] },
      },
    );
    t.ok(
      api.requests.some((r) => r.path === '/apis/networking.k8s.io/v1/networkpolicies'),
      'listed NetworkPolicies cluster-wide',
    );
    t.same(api.writes(), [], 'reach only reads');
  },
);

t.test('audit --flows adds one line per namespace: observed flows enforce would cut', async (t) => {
  const api = await shopCluster(t);
  const run = async (output: 'text' | 'json'): Promise<string> => {
    let out = '';
    await runAudit(
      {
        config: 'policies/guardrails.yaml',
        exceptions: 'policies/exceptions.yaml',
        output,
        kubeconfig: api.kubeconfigPath,
        pageSize: 500,
        flows: [`${SHOP}/hubble-flows.json`],
      },
      {
        stdout: (text) => (out += text),
        progress: undefined,
        now: new Date('2026-11-25T12:00:00Z'),
      },
    );
    return out;
  };
  const text = await run('text');
  t.match(
    text,
    /\nObserved flows the enforce baseline would cut \(netguard advise --flows proposes policies that keep them\):\n {2}prod-ingress: 4 of 5 observed flows would be cut\n {2}prod-payments: 3 of 4 observed flows would be cut\n {2}prod-shop: 3 of 6 observed flows would be cut\n$/,
  );
  const json = JSON.parse(await run('json'));
  t.same(json.observedFlows, [
    { namespace: 'prod-ingress', observed: 5, cut: 4 },
    { namespace: 'prod-payments', observed: 4, cut: 3 },
    { namespace: 'prod-shop', observed: 6, cut: 3 },
  ]);
  t.same(api.writes(), []);
});
