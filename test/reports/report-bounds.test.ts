/**
 * Issue 24, item 5: one big report stops no report. Sizes are capped well under etcd's 1.5 MiB,
 * every report is written even when one write fails, and reports of excluded namespaces go.
 */
import { pino } from 'pino';
import t from 'tap';
import type { Judged, NamespaceReport } from '../../src/audit/scan.ts';
import { kubeRest } from '../../src/kube/rest.ts';
import {
  MESSAGE_MAX,
  policyReports,
  REPORT_BYTES_MAX,
  TRUNCATED_ANNOTATION,
} from '../../src/reports/policy-report.ts';
import { writePolicyReports } from '../../src/reports/writer.ts';
import { crdValidator } from '../helpers/crd-schema.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';

const GROUP = '/apis/wgpolicyk8s.io/v1alpha2';
const NOW = new Date();
const logger = pino({ level: 'silent' });
const valid = crdValidator(
  'test/fixtures/schemas/wgpolicyk8s.io-v1alpha2-policyreports.yaml',
  'v1alpha2',
);

/** `count` Pods in `namespace`, each denied with a finding whose message is `size` characters. */
function judgedPods(namespace: string, count: number, size: number): Judged[] {
  return Array.from(
    { length: count },
    (_, index): Judged => ({
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `p${index}`, namespace, uid: `u${index}` },
      },
      inNextMode: undefined,
      decision: {
        allowed: false,
        kind: 'Pod',
        namespace,
        name: `p${index}`,
        environment: 'production',
        mode: 'enforce',
        skipped: undefined,
        findings: [
          {
            rule: 'POD001',
            name: 'required-labels',
            level: 'deny',
            path: `metadata.labels["${'k'.repeat(size)}"]`,
            message: 'x'.repeat(size),
            fix: 'f',
            notes: [],
          },
        ],
        message: undefined,
        warnings: [],
      },
    }),
  );
}

const namespaceReport = (name: string): NamespaceReport => ({
  name,
  environment: 'production',
  mode: 'enforce',
  baselineMissing: [],
  objects: 1,
  denied: 1,
  warned: 0,
  rules: [],
});

t.test(
  'two 780 KB messages make a report of a few KiB, and the summary still counts them',
  async (t) => {
    const [report] = policyReports({
      judged: judgedPods('big', 2, 780_000),
      namespaces: [namespaceReport('big')],
      namespaceObjects: [],
      now: NOW,
    });
    const bytes = Buffer.byteLength(JSON.stringify(report));
    t.ok(bytes < 8 * 1024, `${bytes} bytes`);
    const results = report?.['results'] as {
      message: string;
      properties: Record<string, string>;
    }[];
    t.equal(results.length, 2);
    for (const result of results) {
      t.equal(result.message.length, MESSAGE_MAX);
      t.ok(result.message.endsWith('…'));
      t.ok((result.properties['path'] ?? '').length <= 256);
    }
    t.ok(valid(report));
  },
);

t.test('many large results stop at the byte cap, with the annotation saying so', async (t) => {
  const [report] = policyReports({
    judged: judgedPods('wide', 900, 5_000),
    namespaces: [namespaceReport('wide')],
    namespaceObjects: [],
    now: NOW,
  });
  const bytes = Buffer.byteLength(JSON.stringify(report));
  t.ok(bytes <= REPORT_BYTES_MAX + 4096, `${bytes} bytes, well under 1 MiB`);
  const listed = (report?.['results'] as unknown[]).length;
  t.ok(listed < 900 && listed > 100, `${listed} listed`);
  t.same(report?.['summary'], { pass: 0, fail: 900, warn: 0, error: 0, skip: 0 });
  t.equal(
    (report?.['metadata'] as { annotations: Record<string, string> }).annotations[
      TRUNCATED_ANNOTATION
    ],
    `${900 - listed} of 900 results not listed; the summary counts all`,
  );
});

t.test(
  'one failing write stops no other report; reports of excluded namespaces are deleted',
  async (t) => {
    const api = await startFakeKubeApi(t);
    api.seed(`${GROUP}/policyreports`, {
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: 'PolicyReport',
      metadata: {
        name: 'netguard',
        namespace: 'kube-system',
        labels: { 'app.kubernetes.io/managed-by': 'netguard' },
      },
    });
    const reports = policyReports({
      judged: [...judgedPods('a', 1, 10), ...judgedPods('b', 1, 10), ...judgedPods('c', 1, 10)],
      namespaces: ['a', 'b', 'c'].map(namespaceReport),
      namespaceObjects: [],
      now: NOW,
    });
    api.failNext('POST', /\/namespaces\/a\/policyreports$/, 500, 'InternalError');
    const result = await writePolicyReports(kubeRest(api.kubeConfig()), reports, logger);
    t.same(result, { created: 3, updated: 0, unchanged: 0, deleted: 1, failed: 1 });
    t.same(
      api
        .list(`${GROUP}/policyreports`)
        .map((r) => r.metadata.namespace)
        .sort(),
      ['b', 'c'],
      'b and c written after a failed; kube-system (excluded) deleted',
    );
    t.equal(api.list(`${GROUP}/clusterpolicyreports`).length, 1, 'the ClusterPolicyReport too');
  },
);
