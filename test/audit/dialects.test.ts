import { join } from 'node:path';
import t from 'tap';
import { runAudit } from '../../src/cli/audit.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { LAB_POLICY } from '../helpers/context.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { RECORDED } from '../helpers/recorded-cluster.ts';
import { loadFixture } from '../helpers/reviews.ts';

const PLURAL: Record<string, string> = {
  Namespace: 'namespaces',
  NetworkSet: 'networksets',
  NetworkPolicy: 'networkpolicies',
  GlobalNetworkPolicy: 'globalnetworkpolicies',
};

const collectionOf = (object: KubeObject): string => {
  const apiVersion = String(object['apiVersion']);
  const plural = PLURAL[String(object['kind'])];
  return apiVersion === 'v1' ? `/api/v1/${plural}` : `/apis/${apiVersion}/${plural}`;
};

interface Report {
  namespaces: {
    name: string;
    rules: {
      rule: string;
      findings: { kind: string; name: string; path: string; message: string }[];
    }[];
  }[];
}

t.test(
  'audit judges a Calico policy with the NetworkSets it lists, and never reports NP014',
  async (t) => {
    const api = await startFakeKubeApi(t);
    for (const object of loadFixture('test/fixtures/dialects/audit-calico.yaml'))
      api.seed(collectionOf(object), object);
    let out = '';
    await runAudit(
      {
        config: LAB_POLICY,
        exceptions: join(RECORDED, 'no-exceptions-file.yaml'),
        output: 'json',
        kubeconfig: api.kubeconfigPath,
        pageSize: 500,
      },
      { stdout: (text) => (out += text), progress: undefined, now: new Date() },
    );
    t.notMatch(out, /NP014|platform-only/, 'NP014 judges a write: audit has none');
    const report = JSON.parse(out) as Report;
    const findings = report.namespaces.flatMap((namespace) =>
      namespace.rules.flatMap((rule) =>
        rule.findings.map((finding) => ({ rule: rule.rule, ...finding })),
      ),
    );
    t.same(
      findings.map((f) => `${f.rule} ${f.kind} ${f.name} ${f.path}`),
      ['NP004 NetworkPolicy.projectcalico.org to-external spec.egress[0].destination.selector'],
      'the policy, through the set it selects; the set itself is not reported again',
    );
    t.match(
      findings[0]?.message,
      /NetworkSet anywhere \(0\.0\.0\.0\/0\) lets these pods reach any address on the internet/,
    );
  },
);
