import { join } from 'node:path';
import t from 'tap';
import { auditLiveCluster, oneShotAuditWorld } from '../../src/audit/live.ts';
import { kubeRest, type KubeRest } from '../../src/kube/rest.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { loadOne } from '../helpers/reviews.ts';
import { RECORDED } from '../helpers/recorded-cluster.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
const DEPLOYMENTS = '/apis/apps/v1/deployments';

t.test(
  'audit lists workloads in pages of 250 and judges each page before fetching the next',
  async (t) => {
    const api = await startFakeKubeApi(t);
    api.seed('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'prod-shop', labels: { 'kubernetes.io/metadata.name': 'prod-shop' } },
    });
    // 600 Deployments: half lack the tier label (POD001 in production).
    const base = loadOne('test/fixtures/workloads/deployment-missing-tier.yaml');
    const labelled = loadOne('test/fixtures/workloads/deployment-labelled.yaml');
    api.seed(
      DEPLOYMENTS,
      ...Array.from({ length: 600 }, (_, i) => ({
        ...(i % 2 === 0 ? base : labelled),
        metadata: { name: `web-${i}`, namespace: 'prod-shop', uid: `uid-${i}` },
      })),
    );
    const events: string[] = [];
    const rest = kubeRest(api.kubeConfig());
    const recording: KubeRest = {
      ...rest,
      listPage: (path, limit, token, shape) => {
        if (path.endsWith('/deployments')) events.push(`fetch limit=${limit}`);
        return rest.listPage(path, limit, token, shape);
      },
    };
    const { report, judged } = await auditLiveCluster(
      oneShotAuditWorld(recording, {
        config: 'policies/guardrails.yaml',
        exceptions: join(RECORDED, 'no-exceptions-file.yaml'),
      }),
      {
        now: NOW,
        onProgress: (what, count) => {
          if (what === 'deployments') events.push(`judged ${count}`);
        },
      },
    );
    t.same(
      events,
      [
        'fetch limit=250',
        'judged 250',
        'fetch limit=250',
        'judged 500',
        'fetch limit=250',
        'judged 600',
      ],
      'one page fetched, judged, then the next',
    );
    const pages = api.requests.filter((request) => request.path === DEPLOYMENTS);
    t.same(
      pages.map((request) => request.query.get('limit')),
      ['250', '250', '250'],
      'the API server was asked for 250 at a time',
    );
    t.equal(report.summary.objects, 600, 'every Deployment judged once');
    t.equal(report.summary.denied, 300, 'the 300 without a tier denied');
    t.same(
      Object.keys(judged[0]?.object ?? {}).sort(),
      ['apiVersion', 'kind', 'metadata'],
      'only a reference of each object is kept',
    );
    t.same(judged[0]?.object['metadata'], { name: 'web-0', namespace: 'prod-shop', uid: 'uid-0' });
  },
);
