import { pino } from 'pino';
import t from 'tap';
import { kubeRest } from '../../src/kube/rest.ts';
import { oneShotAuditWorld, runningAuditWorld } from '../../src/audit/live.ts';
import { startWorld } from '../../src/live-world.ts';
import {
  MAX_RESULTS,
  policyReports,
  TRUNCATED_ANNOTATION,
} from '../../src/reports/policy-report.ts';
import {
  startReportScanner,
  withPolicyReports,
  type ReportScanner,
  type ReportScannerOptions,
} from '../../src/reports/scanner.ts';
import type { Judged, NamespaceReport } from '../../src/audit/scan.ts';
import { crdValidator } from '../helpers/crd-schema.ts';
import type { FakeKubeApi } from '../helpers/fake-kube-api.ts';
import { RECORDED, recordedCluster } from '../helpers/recorded-cluster.ts';

const GROUP = '/apis/wgpolicyk8s.io/v1alpha2';
const NOW = new Date('2026-11-22T12:00:00Z');
const valid = crdValidator(
  'test/fixtures/schemas/wgpolicyk8s.io-v1alpha2-policyreports.yaml',
  'v1alpha2',
);
const logger = pino({ level: process.env['LOG'] ?? 'silent' });

function scanner(api: FakeKubeApi, extra: Partial<ReportScannerOptions> = {}): ReportScanner {
  const s = startReportScanner({
    world: oneShotAuditWorld(kubeRest(api.kubeConfig()), {
      config: 'policies/guardrails.yaml',
      exceptions: `${RECORDED}/no-exceptions-file.yaml`,
    }),
    logger,
    isLeader: () => true,
    // Long enough that only the test's own calls scan.
    periodMs: 3_600_000,
    settleMs: 3_600_000,
    now: () => NOW,
    ...extra,
  });
  return s;
}

const reportWrites = (api: FakeKubeApi): string[] =>
  api
    .writes()
    .filter((w) => w.path.startsWith(GROUP))
    .map((w) => `${w.method} ${w.path.replace(GROUP, '')}`);

t.test(
  'the scan writes a PolicyReport per namespace and the ClusterPolicyReport, then only what changed',
  async (t) => {
    const api = await recordedCluster(t);
    // Left by an earlier scan in a namespace that is gone, and Kyverno's own report: only ours goes.
    api.seed(`${GROUP}/policyreports`, {
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: 'PolicyReport',
      metadata: {
        name: 'netguard',
        namespace: 'gone',
        labels: { 'app.kubernetes.io/managed-by': 'netguard' },
      },
    });
    api.seed(`${GROUP}/policyreports`, {
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: 'PolicyReport',
      metadata: {
        name: 'cpol-require-labels',
        namespace: 'prod-payments',
        labels: { 'app.kubernetes.io/managed-by': 'kyverno' },
      },
    });
    const s = scanner(api);
    t.teardown(() => s.stop());

    t.same(await s.scanNow(), { created: 6, updated: 0, unchanged: 0, deleted: 1, failed: 0 });
    const stored = api.list(`${GROUP}/policyreports`);
    t.same(stored.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort(), [
      'default/netguard',
      'dev-web/netguard',
      'prod-legacy/netguard',
      'prod-payments/cpol-require-labels',
      'prod-payments/netguard',
      'staging-api/netguard',
    ]);
    for (const report of [
      ...stored.filter((r) => r.metadata.name === 'netguard'),
      ...api.list(`${GROUP}/clusterpolicyreports`),
    ]) {
      t.ok(
        valid(report),
        `${report.metadata.namespace ?? 'cluster'}: ${JSON.stringify(valid.errors?.slice(0, 2))}`,
      );
    }
    t.ok(reportWrites(api).includes('DELETE /namespaces/gone/policyreports/netguard'));

    const before = api.writes().length;
    t.same(
      await s.scanNow(),
      { created: 0, updated: 0, unchanged: 6, deleted: 0, failed: 0 },
      'a rescan of an unchanged cluster writes nothing',
    );
    t.equal(api.writes().length, before);

    // dev-web's namespace goes away; a new deny-all policy in prod-payments changes its report.
    api.emit(
      '/api/v1/namespaces',
      'DELETED',
      api.get('/api/v1/namespaces', undefined, 'dev-web') ?? {},
    );
    api.seed('/apis/networking.k8s.io/v1/networkpolicies', {
      metadata: { name: 'egress-anywhere-2', namespace: 'prod-payments' },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }],
      },
    });
    t.same(await s.scanNow(), { created: 0, updated: 1, unchanged: 4, deleted: 1, failed: 0 });
    const payments = api.get(`${GROUP}/policyreports`, 'prod-payments', 'netguard');
    t.ok(
      payments?.results.some(
        (r: { policy: string; resources: { name: string }[] }) =>
          r.policy === 'NP004' && r.resources[0]?.name === 'egress-anywhere-2',
      ),
    );
    t.equal(api.get(`${GROUP}/policyreports`, 'dev-web', 'netguard'), undefined);
    t.ok(
      reportWrites(api).some((w) =>
        w.startsWith('PUT /namespaces/prod-payments/policyreports/netguard'),
      ),
      'replaced with its resourceVersion',
    );
  },
);

t.test(
  'only the leader writes; without the CRD nothing is written and the scan says so once',
  async (t) => {
    const api = await recordedCluster(t);
    let leader = false;
    const s = scanner(api, { isLeader: () => leader });
    t.teardown(() => s.stop());
    t.equal(await s.scanNow(), 'skipped');
    t.same(reportWrites(api), []);
    leader = true;
    api.failNext('GET', /\/policyreports$/, 404, 'NotFound');
    t.equal(await s.scanNow(), 'unavailable');
    t.same(reportWrites(api), []);
    api.failNext('GET', /\/pods$/, 500, 'InternalError');
    t.equal(
      await s.scanNow(),
      'failed',
      'an API error is logged and retried at the next period, never thrown',
    );
  },
);

t.test('a cache change triggers a scan after the settle time, coalescing a burst', async (t) => {
  const api = await recordedCluster(t);
  const outcomes: unknown[] = [];
  let done: () => void = () => undefined;
  const scanned = new Promise<void>((resolve) => (done = resolve));
  const s = scanner(api, {
    settleMs: 20,
    onScan: (outcome) => {
      outcomes.push(outcome);
      done();
    },
  });
  t.teardown(() => s.stop());
  for (let i = 0; i < 50; i++) s.changed();
  await scanned;
  t.equal(outcomes.length, 1, 'fifty changes, one scan');
  t.match(outcomes[0], { created: 6 });
});

t.test(
  'a report never outgrows etcd: results capped, the summary counts all, an annotation says so',
  async (t) => {
    const object = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'big', uid: 'u' },
    };
    const finding = {
      rule: 'POD001',
      name: 'required-labels',
      level: 'deny' as const,
      path: 'metadata.labels',
      message: 'm',
      fix: 'f',
      notes: [],
    };
    const judged = Array.from(
      { length: MAX_RESULTS + 5 },
      (): Judged => ({
        object,
        inNextMode: undefined,
        decision: {
          allowed: false,
          kind: 'Pod',
          namespace: 'big',
          name: 'p',
          environment: 'production',
          mode: 'enforce',
          skipped: undefined,
          findings: [finding],
          message: undefined,
          warnings: [],
        },
      }),
    );
    const namespaces = [
      {
        name: 'big',
        environment: 'production',
        mode: 'enforce',
        baselineMissing: [],
        objects: 1,
        denied: 1,
        warned: 0,
        rules: [],
      } as NamespaceReport,
    ];
    const [report] = policyReports({ judged, namespaces, namespaceObjects: [], now: NOW });
    t.equal((report?.['results'] as unknown[]).length, MAX_RESULTS);
    t.same(report?.['summary'], { pass: 0, fail: MAX_RESULTS + 5, warn: 0, error: 0, skip: 0 });
    t.equal(
      (report?.['metadata'] as { annotations: Record<string, string> }).annotations[
        TRUNCATED_ANNOTATION
      ],
      `5 of ${MAX_RESULTS + 5} results not listed; the summary counts all`,
    );
    t.ok(valid(report));
  },
);

t.test(
  "the controller hook: its cache events start a scan, judged with the controller's own world; stopping the controller stops the scanner",
  async (t) => {
    const api = await recordedCluster(t);
    const files = { config: 'policies/guardrails.yaml', exceptions: `${RECORDED}/none.yaml` };
    const world = startWorld({ ...files, logger, kubeConfig: api.kubeConfig() });
    t.teardown(() => world.close());
    let onChange: () => void = () => undefined;
    let stopped = false;
    let done: (outcome: unknown) => void = () => undefined;
    const scanned = new Promise<unknown>((resolve) => (done = resolve));
    const controller = withPolicyReports(
      (onCacheChange) => {
        onChange = onCacheChange;
        return { isLeader: () => true, stop: async () => void (stopped = true) };
      },
      {
        // The controller's own world: its watched files and caches, its one client.
        world: runningAuditWorld(world, files),
        logger,
        periodMs: 3_600_000,
        settleMs: 10,
        onScan: done,
      },
    );
    onChange();
    t.match(await scanned, { created: 6 });
    await controller.stop();
    t.ok(stopped);
    const off = withPolicyReports(() => ({ isLeader: () => true, stop: async () => undefined }), {
      world: runningAuditWorld(world, files),
      logger,
      periodMs: undefined,
    });
    await off.stop();
    t.equal(
      api.list(`${GROUP}/clusterpolicyreports`).length,
      1,
      '--policy-reports 0: no scanner, nothing more written',
    );
  },
);
