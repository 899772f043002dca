import t from 'tap';
import { runCheckInProcess } from './run-check.ts';

t.test(
  'check judges Cilium, Calico and cluster-scoped dialect manifests by group, version and kind',
  async (t) => {
    const run = await runCheckInProcess([
      '-f',
      'test/fixtures/dialects/cilium-world-egress.yaml',
      '-f',
      'test/fixtures/dialects/calico-deny-world.yaml',
      '-f',
      'test/fixtures/dialects/clusterwide-world.yaml',
      '--output',
      'json',
    ]);
    t.equal(run.code, 1, 'one would be denied');
    const report = JSON.parse(run.stdout) as {
      results: {
        kind: string;
        namespace: string;
        name: string;
        verdict: string;
        findings: { rule: string; path: string }[];
      }[];
    };
    const byName = new Map(report.results.map((result) => [result.name, result]));
    t.same(
      byName.get('crawler-out')?.findings.map((f) => `${f.rule} ${f.path}`),
      ['NP004 spec.egress[0].toEntities[0]'],
    );
    t.equal(byName.get('crawler-out')?.kind, 'CiliumNetworkPolicy');
    t.equal(byName.get('no-internet')?.verdict, 'allowed', 'a Calico Deny opens nothing');
    t.equal(byName.get('no-internet')?.kind, 'NetworkPolicy.projectcalico.org');
    const clusterwide = byName.get('open-world');
    t.equal(clusterwide?.namespace, '', 'cluster-scoped: no namespace');
    t.same(
      clusterwide?.findings.map((f) => f.rule).sort(),
      ['NP004'],
      'the internet; NP014 judges a write, and check has no requester',
    );
    t.notMatch(run.stdout, /NP014|platform-only/, 'NP014 is never reported offline');
  },
);

t.test('check judges a Calico policy with the NetworkSets among the files given', async (t) => {
  const run = await runCheckInProcess([
    '-f',
    'test/fixtures/dialects/calico-network-set.yaml',
    '--output',
    'json',
  ]);
  const report = JSON.parse(run.stdout) as {
    results: {
      kind: string;
      name: string;
      findings: { rule: string; path: string; message: string }[];
    }[];
  };
  const policy = report.results.find((result) => result.name === 'to-external');
  t.same(
    policy?.findings.map((f) => `${f.rule} ${f.path}`),
    ['NP004 spec.egress[0].destination.selector'],
  );
  t.match(
    policy?.findings[0]?.message,
    /NetworkSet anywhere \(0\.0\.0\.0\/0\) lets these pods reach/,
  );
  const set = report.results.find((result) => result.name === 'anywhere');
  t.same(set?.findings ?? [], [], 'the set itself is no write: the policy carries the finding');
});
