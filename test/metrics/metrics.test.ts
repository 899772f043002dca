import { request } from 'node:http';
import t from 'tap';
import { createMetrics, startMetricsServer } from '../../src/metrics.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';

function get(
  url: string,
  method = 'GET',
): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          type: res.headers['content-type'],
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('reviews answered over TLS show up on the plain-HTTP metrics port', async (t) => {
  let counts = { active: 2, expiring: 1, expired: 0, pending: 3 };
  const metrics = createMetrics({ waiverCounts: () => counts });
  const webhook = await startWebhook(t, { deps: { onDecision: metrics.recordDecision } });
  const server = await startMetricsServer(metrics.registry, 0, '127.0.0.1');
  t.teardown(() => server.close());

  const deployment = loadOne('test/fixtures/workloads/deployment-missing-tier.yaml');
  const prod = {
    ...deployment,
    metadata: { ...(deployment['metadata'] as object), namespace: 'prod-shop' },
  };
  t.equal((await webhook.post('/validate', reviewFor(prod))).json().response.allowed, false);
  t.equal(
    (
      await webhook.post(
        '/validate',
        reviewFor({ ...prod, metadata: { ...(prod.metadata as object), namespace: 'dev-shop' } }),
      )
    ).json().response.allowed,
    true,
  );
  await webhook.post(
    '/mutate',
    reviewFor({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'prod-new', labels: { 'kubernetes.io/metadata.name': 'prod-new' } },
    }),
  );
  metrics.recordReload('policy', 'success');
  metrics.recordReload('policy', 'failure');

  const scrape = await get(server.url);
  t.equal(scrape.status, 200);
  t.match(scrape.type, /^text\/plain/);
  const body = scrape.body;
  t.match(
    body,
    'netguard_admission_reviews_total{webhook="validate",kind="Deployment",operation="CREATE",verdict="denied",mode="enforce"} 1',
  );
  t.match(
    body,
    'netguard_admission_reviews_total{webhook="validate",kind="Deployment",operation="CREATE",verdict="allowed",mode="observe"} 1',
  );
  t.match(
    body,
    'netguard_admission_reviews_total{webhook="mutate",kind="Namespace",operation="CREATE",verdict="allowed",mode="enforce"} 1',
    '/mutate records the mode it patched the namespace for',
  );
  t.match(body, 'netguard_findings_total{rule="POD001",level="deny",namespace="prod-shop"} 1');
  t.match(body, 'netguard_findings_total{rule="POD001",level="warn",namespace="dev-shop"} 1');
  t.match(
    body,
    'netguard_admission_review_duration_seconds_bucket{le="0.0001",webhook="validate"}',
    'sub-millisecond buckets',
  );
  t.match(body, 'netguard_admission_review_duration_seconds_count{webhook="validate"} 2');
  t.match(body, 'netguard_config_reloads_total{file="policy",result="failure"} 1');
  t.match(body, 'netguard_waivers{state="pending"} 3');
  t.match(body, 'process_resident_memory_bytes');
  t.match(body, 'nodejs_eventloop_lag_seconds');

  counts = { active: 0, expiring: 0, expired: 5, pending: 0 };
  t.match(
    (await get(server.url)).body,
    'netguard_waivers{state="expired"} 5',
    'waiver counts are read at scrape time',
  );
  t.equal(
    (await get(server.url.replace('/metrics', '/validate'))).status,
    404,
    'only /metrics is served',
  );
});

t.test('each call builds its own registry: nothing is shared between instances', async (t) => {
  const a = createMetrics({ processMetrics: false });
  const b = createMetrics({ processMetrics: false });
  a.recordReload('exceptions', 'success');
  t.match(
    await a.registry.metrics(),
    'netguard_config_reloads_total{file="exceptions",result="success"} 1',
  );
  t.match(
    await b.registry.metrics(),
    'netguard_config_reloads_total{file="exceptions",result="success"} 0',
    "another instance's reload is not counted here (its series sits at 0)",
  );
  t.notMatch(await b.registry.metrics(), 'process_cpu');
});

t.test(
  'label values come only from known sets: made-up kinds, modes and rules are "other"',
  async (t) => {
    const metrics = createMetrics({ processMetrics: false });
    const webhook = await startWebhook(t, { deps: { onDecision: metrics.recordDecision } });
    // 300 reviews of kinds nobody registered, each a new name, over the real server.
    for (let i = 0; i < 300; i++) {
      const made = {
        apiVersion: 'example.com/v1',
        kind: `Made${i}Up`,
        metadata: { name: `x${i}`, namespace: 'prod-shop' },
      };
      t.equal((await webhook.post('/validate', reviewFor(made))).status, 200);
    }
    // Whatever a future engine path puts into a decision, the metrics never echo it unchecked.
    const input = {
      uid: 'u',
      kind: 'Pod\nInjected',
      operation: 'CREATE',
      namespace: 'n',
      name: 'p',
      object: {},
      oldObject: undefined,
      user: { username: 'u', groups: [] },
      dryRun: false,
    } as const;
    metrics.recordDecision({
      webhook: 'validate',
      input,
      decision: {
        allowed: false,
        name: 'p',
        environment: 'x',
        mode: 'relaxed',
        skipped: 'bored',
        findings: [{ rule: 'ZZ999', level: 'fatal' }],
      },
      seconds: 0.001,
    });

    const text = await metrics.registry.metrics();
    const reviews = text
      .split('\n')
      .filter((line) => line.startsWith('netguard_admission_reviews_total{'));
    t.same(
      reviews,
      [
        'netguard_admission_reviews_total{webhook="validate",kind="other",operation="CREATE",verdict="allowed",mode="enforce"} 300',
        'netguard_admission_reviews_total{webhook="validate",kind="other",operation="CREATE",verdict="denied",mode="other"} 1',
      ],
      'two series for 301 reviews of 301 unknown kinds',
    );
    t.match(text, 'netguard_findings_total{rule="other",level="other",namespace="n"} 1');
    t.match(text, 'netguard_admission_skips_total{webhook="validate",reason="other"} 1');
    t.notMatch(
      text,
      /Made\d+Up|Injected|relaxed|ZZ999|fatal|bored/,
      'no requester-chosen value becomes a label',
    );
  },
);

t.test(
  'the namespace label on findings is bounded: later namespaces share _other, cluster-scoped objects are _cluster',
  async (t) => {
    const metrics = createMetrics({ processMetrics: false, maxNamespaces: 2 });
    const decision = (namespace: string) => ({
      webhook: 'validate' as const,
      input: {
        uid: 'u',
        kind: namespace === '' ? 'Namespace' : 'Pod',
        operation: 'CREATE' as const,
        namespace,
        name: 'x',
        object: {},
        oldObject: undefined,
        user: { username: '', groups: [] },
        dryRun: false,
      },
      decision: {
        allowed: false,
        name: 'x',
        environment: 'production',
        mode: 'enforce',
        findings: [{ rule: 'POD001', level: 'deny' }],
      },
      seconds: 0.0001,
    });
    for (const namespace of ['a', 'b', 'c', 'd', 'a', ''])
      metrics.recordDecision(decision(namespace));
    const body = await metrics.registry.metrics();
    t.match(body, 'netguard_findings_total{rule="POD001",level="deny",namespace="a"} 2');
    t.match(body, 'netguard_findings_total{rule="POD001",level="deny",namespace="b"} 1');
    t.match(body, 'netguard_findings_total{rule="POD001",level="deny",namespace="_other"} 2');
    t.match(body, 'netguard_findings_total{rule="POD001",level="deny",namespace="_cluster"} 1');
    t.notMatch(body, 'namespace="c"');
  },
);
