import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parse } from 'yaml';
import { runAudit, type AuditOptions } from '../../src/cli/audit.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.ts';

const RECORDED = 'test/fixtures/cluster';
const EXPECTED = join(RECORDED, 'expected-audit.json');
const NOW = new Date('2026-11-22T12:00:00Z');

interface RecordedList {
  apiVersion: string;
  kind: string;
  items: Record<string, unknown>[];
}

const PLURAL: Record<string, string> = { NetworkPolicyList: 'networkpolicies', GuardrailExceptionList: 'guardrailexceptions' };
const collectionOf = (list: RecordedList): string => {
  const plural = PLURAL[list.kind] ?? `${list.kind.replace(/List$/, '').toLowerCase()}s`;
  return list.apiVersion.includes('/') ? `/apis/${list.apiVersion}/${plural}` : `/api/${list.apiVersion}/${plural}`;
};

/** Serves the recorded list responses; `replace` swaps a file's items (e.g. another CNI). */
async function recordedCluster(t: Test, replace: Record<string, Record<string, unknown>[]> = {}): Promise<FakeKubeApi> {
  const api = await startFakeKubeApi(t);
  for (const file of readdirSync(RECORDED).filter((name) => name.endsWith('.yaml'))) {
    const list = parse(readFileSync(join(RECORDED, file), 'utf8')) as RecordedList;
    api.seed(collectionOf(list), ...(replace[file] ?? list.items));
  }
  return api;
}

async function audit(api: FakeKubeApi, output: 'text' | 'json', extra: Partial<AuditOptions> = {}): Promise<string> {
  let out = '';
  await runAudit(
    { config: 'policies/guardrails.yaml', exceptions: join(RECORDED, 'no-exceptions-file.yaml'), output, kubeconfig: api.kubeconfigPath, pageSize: 2, ...extra },
    { stdout: (text) => (out += text), progress: undefined, now: NOW },
  );
  return out;
}

t.test('audit --output json on the recorded cluster matches the reviewed expectation', async (t) => {
  const api = await recordedCluster(t);
  const json = await audit(api, 'json');
  if (process.env['UPDATE_EXPECTED'] === '1') writeFileSync(EXPECTED, json);
  t.same(JSON.parse(json), JSON.parse(readFileSync(EXPECTED, 'utf8')));
  const podPages = api.requests.filter((r) => r.path === '/api/v1/pods');
  t.equal(podPages.length, 2, '4 pods in pages of 2');
  t.equal(podPages[1]?.query.get('continue') !== null, true, 'the second page asked with the continue token');
  t.same(api.writes(), [], 'audit only reads');
});

t.test('the text report: CNI verdict, findings grouped by namespace and rule, promotion readiness', async (t) => {
  const api = await recordedCluster(t);
  const text = await audit(api, 'text');
  t.match(text, /^CNI: Calico \(kube-system\/calico-node\) enforces NetworkPolicy\.\n/);
  t.match(text, /  prod-payments \(production, enforce\) — 3 objects: 1 would be denied, 1 warned\n    NP004 world-egress \(1 warn\)\n      warn NetworkPolicy egress-anywhere at spec\.egress\[0\]\.to\[0\]\.ipBlock\.cidr \[waived\]\n.*\(waived by prod-payments\/payments-psp-egress until 2026-12-04 \(12 days left\)\)\n/);
  t.match(text, /  development \(observe → constrain\): 2 namespaces, 2 objects\n    in constrain: 2 objects would be denied \(NP002×1, POD001×1\); today: 0\.\n    without the constrain baseline .*\n      default: needs netguard\.dev\/default-deny: Ingress, netguard\.dev\/allow-dns: "true"\n      dev-web: needs/);
  t.match(text, /  production \(enforce\): 2 namespaces, 4 objects\n    already enforcing: 2 would be denied today\.\n/);
  t.match(text, /      prod-legacy: needs netguard\.dev\/default-deny: Ingress,Egress, netguard\.dev\/allow-dns: "true"/);
  t.notMatch(text, /coredns|web-7d9c8b5f4|report-29391260|ledger-0/, 'owned pods, ReplicaSets and Jobs appear only at their workload');
  t.match(text, /  staging \(constrain → enforce\): 1 namespace, 3 objects\n    in enforce: 2 objects would be denied \(NP008×1, POD001×2\); today: 1\.\n.*\n      staging-api: needs netguard\.dev\/default-deny: Ingress,Egress \(has Ingress\)\n/);
  t.notMatch(text, /netguard-allow-same-namespace|netguard-default-deny/, 'netguard\'s own baseline policies are not findings');
  t.match(text, /\n9 objects in 5 namespaces: 3 would be denied, 4 admitted with warnings; 4 reported at their workload; 2 netguard baseline policies and 1 excluded namespace skipped\.\n$/);
});

t.test('without an enforcing CNI the report opens with a loud warning', async (t) => {
  const flannel = { metadata: { name: 'kube-flannel-ds', namespace: 'kube-flannel' }, spec: { template: { spec: { containers: [{ name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.26.1' }] } } } };
  const api = await recordedCluster(t, { 'daemonsets.yaml': [flannel] });
  const text = await audit(api, 'text');
  t.match(text, /^!{78}\n!! WARNING: NO NETWORKPOLICY-ENFORCING CNI DETECTED \(found flannel, which does not enforce it\)\. The API server accepts NetworkPolicies, but nothing enforces them/);
  t.match(text, /!!   flannel \(kube-flannel\/kube-flannel-ds\): flannel alone does not implement NetworkPolicy/);
  const report = JSON.parse(await audit(api, 'json')) as { cni: { enforcing: boolean } };
  t.equal(report.cni.enforcing, false);
});

t.test('--namespace narrows the report but still reads the CNI from every namespace', async (t) => {
  const api = await recordedCluster(t);
  const report = JSON.parse(await audit(api, 'json', { namespace: 'staging-api' })) as { namespaces: { name: string }[]; cni: { enforcing: boolean }; environments: { environment: string; namespaces: string[] }[] };
  t.same(report.namespaces.map((ns) => ns.name), ['staging-api']);
  t.equal(report.cni.enforcing, true);
  t.ok(api.requests.some((r) => r.path === '/apis/apps/v1/namespaces/staging-api/deployments'));
  t.ok(api.requests.some((r) => r.path === '/apis/apps/v1/daemonsets'));
});
