import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { LAB_POLICY } from '../helpers/context.ts';
import { crdValidator } from '../helpers/crd-schema.ts';
import { runAudit, type AuditOptions } from '../../src/cli/audit.ts';
import type { FakeKubeApi } from '../helpers/fake-kube-api.ts';
import { RECORDED, recordedCluster } from '../helpers/recorded-cluster.ts';

const EXPECTED = join(RECORDED, 'expected-audit.json');
const NOW = new Date('2026-11-22T12:00:00Z');

async function audit(
  api: FakeKubeApi,
  output: AuditOptions['output'],
  extra: Partial<AuditOptions> = {},
): Promise<string> {
  let out = '';
  await runAudit(
    {
      config: LAB_POLICY,
      exceptions: join(RECORDED, 'no-exceptions-file.yaml'),
      output,
      kubeconfig: api.kubeconfigPath,
      pageSize: 2,
      ...extra,
    },
    { stdout: (text) => (out += text), progress: undefined, now: NOW },
  );
  return out;
}

t.test(
  'audit --output json on the recorded cluster matches the reviewed expectation',
  async (t) => {
    const api = await recordedCluster(t);
    const json = await audit(api, 'json');
    if (process.env['UPDATE_EXPECTED'] === '1') writeFileSync(EXPECTED, json);
    t.same(JSON.parse(json), JSON.parse(readFileSync(EXPECTED, 'utf8')));
    const podPages = api.requests.filter((r) => r.path === '/api/v1/pods');
    t.equal(podPages.length, 2, '4 pods in pages of 2');
    t.equal(
      podPages[1]?.query.get('continue') !== null,
      true,
      'the second page asked with the continue token',
    );
    t.same(api.writes(), [], 'audit only reads');
  },
);

t.test(
  'the text report: CNI verdict, findings grouped by namespace and rule, promotion readiness',
  async (t) => {
    const api = await recordedCluster(t);
    const text = await audit(api, 'text');
    t.match(text, /^CNI: Calico \(kube-system\/calico-node\) enforces NetworkPolicy\.\n/);
    t.match(
      text,
      / {2}prod-payments \(production, enforce\) — 3 objects: 1 would be denied, 1 warned\n {4}NP004 world-egress \(1 warn\)\n {6}warn NetworkPolicy egress-anywhere at spec\.egress\[0\]\.to\[0\]\.ipBlock\.cidr \[waived\]\n.*\(waived by prod-payments\/payments-psp-egress until 2026-12-04 \(12 days left\)\)\n/,
    );
    t.match(
      text,
      / {2}development \(observe → constrain\): 2 namespaces, 2 objects\n {4}in constrain: 2 objects would be denied \(NP002×1, POD001×1\); today: 0\.\n {4}without the constrain baseline .*\n {6}default: needs netguard\.dev\/default-deny: Ingress, netguard\.dev\/allow-dns: "true"\n {6}dev-web: needs/,
    );
    t.match(
      text,
      / {2}production \(enforce\): 2 namespaces, 4 objects\n {4}already enforcing: 2 would be denied today\.\n/,
    );
    t.match(
      text,
      / {6}prod-legacy: needs netguard\.dev\/default-deny: Ingress,Egress, netguard\.dev\/allow-dns: "true"/,
    );
    t.notMatch(
      text,
      /coredns|web-7d9c8b5f4|report-29391260|ledger-0/,
      'owned pods, ReplicaSets and Jobs appear only at their workload',
    );
    t.match(
      text,
      / {2}staging \(constrain → enforce\): 1 namespace, 3 objects\n {4}in enforce: 2 objects would be denied \(NP008×1, POD001×2\); today: 1\.\n.*\n {6}staging-api: needs netguard\.dev\/default-deny: Ingress,Egress \(has Ingress\)\n/,
    );
    t.notMatch(
      text,
      /netguard-allow-same-namespace|netguard-default-deny/,
      "netguard's own baseline policies are not findings",
    );
    t.match(
      text,
      /\n9 objects in 5 namespaces: 3 would be denied, 4 admitted with warnings; 4 reported at their workload; 2 netguard baseline policies and 1 excluded namespace skipped\.\n$/,
    );
  },
);

t.test('without an enforcing CNI the report opens with a loud warning', async (t) => {
  const flannel = {
    metadata: { name: 'kube-flannel-ds', namespace: 'kube-flannel' },
    spec: {
      template: {
        spec: {
          containers: [{ name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.26.1' }],
        },
      },
    },
  };
  const api = await recordedCluster(t, { 'daemonsets.yaml': [flannel] });
  const text = await audit(api, 'text');
  t.match(
    text,
    /^!{78}\n!! WARNING: NO NETWORKPOLICY-ENFORCING CNI DETECTED \(found flannel, which does not enforce it\)\. The API server accepts NetworkPolicies, but nothing enforces them/,
  );
  t.match(
    text,
    /!! {3}flannel \(kube-flannel\/kube-flannel-ds\): flannel alone does not implement NetworkPolicy/,
  );
  const report = JSON.parse(await audit(api, 'json')) as { cni: { enforcing: boolean } };
  t.equal(report.cni.enforcing, false);
});

t.test('--namespace narrows the report but still reads the CNI from every namespace', async (t) => {
  const api = await recordedCluster(t);
  const report = JSON.parse(await audit(api, 'json', { namespace: 'staging-api' })) as {
    namespaces: { name: string }[];
    cni: { enforcing: boolean };
    environments: { environment: string; namespaces: string[] }[];
  };
  t.same(
    report.namespaces.map((ns) => ns.name),
    ['staging-api'],
  );
  t.equal(report.cni.enforcing, true);
  t.ok(api.requests.some((r) => r.path === '/apis/apps/v1/namespaces/staging-api/deployments'));
  t.ok(api.requests.some((r) => r.path === '/apis/apps/v1/daemonsets'));
});

const validPolicyReport = crdValidator(
  'test/fixtures/schemas/wgpolicyk8s.io-v1alpha2-policyreports.yaml',
  'v1alpha2',
);

interface Report {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  summary: Record<string, number>;
  results: {
    policy: string;
    rule: string;
    result: string;
    severity: string;
    resources: Record<string, string>[];
    properties: Record<string, string>;
    message: string;
  }[];
}

t.test(
  'audit --output policyreport: a PolicyReport per namespace and a ClusterPolicyReport, valid against the CRD schema',
  async (t) => {
    const api = await recordedCluster(t);
    const stream = await audit(api, 'policyreport');
    const reports = parseAllDocuments(stream).map((doc) => doc.toJS() as Report);
    for (const report of reports)
      t.ok(
        validPolicyReport(report),
        `${report.kind} ${report.metadata.namespace ?? ''}: ${JSON.stringify(validPolicyReport.errors?.slice(0, 3))}`,
      );
    t.same(
      reports.map((r) => [r.apiVersion, r.kind, r.metadata.namespace ?? null, r.metadata.name]),
      [
        ['wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'default', 'netguard'],
        ['wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'dev-web', 'netguard'],
        ['wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'prod-legacy', 'netguard'],
        ['wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'prod-payments', 'netguard'],
        ['wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'staging-api', 'netguard'],
        ['wgpolicyk8s.io/v1alpha2', 'ClusterPolicyReport', null, 'netguard'],
      ],
    );
    const payments = reports.find((r) => r.metadata.namespace === 'prod-payments');
    t.same(payments?.metadata.labels, { 'app.kubernetes.io/managed-by': 'netguard' });
    const waived = payments?.results.find((r) => r.policy === 'NP004');
    t.equal(
      waived?.result,
      'skip',
      'a waived finding is skip, as Kyverno reports a PolicyException',
    );
    t.equal(waived?.rule, 'world-egress');
    t.same(waived?.resources, [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        name: 'egress-anywhere',
        namespace: 'prod-payments',
        uid: waived?.resources[0]?.['uid'],
      },
    ]);
    t.match(waived?.properties, {
      path: 'spec.egress[0].to[0].ipBlock.cidr',
      environment: 'production',
      mode: 'enforce',
      waivedBy: 'prod-payments/payments-psp-egress',
      waiverExpires: '2026-12-04T00:00:00Z',
    });
    const failing = payments?.results.filter((r) => r.result === 'fail') ?? [];
    t.ok(
      failing.length >= 1 && failing.every((r) => r.severity === 'high'),
      'denials are fail, high',
    );
    t.equal(payments?.summary['fail'], failing.length);
    const all = reports.flatMap((r) => r.results);
    t.equal(
      reports.reduce((sum, r) => sum + (r.summary['fail'] ?? 0), 0),
      all.filter((r) => r.result === 'fail').length,
      'summaries add up',
    );
    const cluster = reports.at(-1);
    t.ok(
      cluster?.results.some(
        (r) =>
          r.policy === 'NS001' && r.result === 'warn' && r.resources[0]?.['name'] === 'prod-legacy',
      ),
      'namespaces lacking their baseline are in the ClusterPolicyReport',
    );
    t.notOk(
      validPolicyReport({ ...payments, results: [{ ...waived, result: 'waived' }] }),
      'the schema check can fail: unknown result',
    );
    t.notOk(
      validPolicyReport({ ...payments, results: [{ ...waived, waivedBy: 'x' }] }),
      'an undeclared field (the API server would prune it) fails',
    );
  },
);

t.test(
  'the text report opens (after the CNI verdict) with what to fix first; progress goes to stderr',
  async (t) => {
    const api = await recordedCluster(t);
    let out = '';
    let err = '';
    await runAudit(
      {
        config: LAB_POLICY,
        exceptions: join(RECORDED, 'no-exceptions-file.yaml'),
        output: 'text',
        kubeconfig: api.kubeconfigPath,
        pageSize: 2,
      },
      { stdout: (text) => (out += text), progress: (text) => (err += text), tty: false, now: NOW },
    );
    t.match(
      out,
      /^CNI: .*\n\nFix first \(most denials first; details below\):\n {2}1\. POD001 required-labels: 4 findings would be denied today in 2 namespaces\n {2}2\. POD003 host-network: 1 finding would be denied today in 1 namespace\n/,
    );
    t.match(
      out,
      /\n {2}Namespaces with most denied objects: prod-legacy \(1\), prod-payments \(1\), staging-api \(1\)\n/,
    );
    t.match(out, /\n {2}Blocking the next promotion: /);
    t.match(err, /^netguard: listing namespaces: 2\n/);
    t.match(err, /\nnetguard: judged \d+ objects in \d+ namespaces\n$/);
    t.notMatch(err, /\r|\u001b/, 'no terminal control codes when stderr is not a TTY');
  },
);
