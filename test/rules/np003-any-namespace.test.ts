import t from 'tap';
import { assertLevels, findingsOf, judgeFixture } from './judge.ts';

t.test('empty namespaceSelector: every peer reported, level per mode, the words', async (t) => {
  assertLevels(
    t,
    'np003-fires.yaml',
    'NP003',
    { observe: 'warn', constrain: 'deny', enforce: 'deny' },
    { alone: true },
  );
  const found = findingsOf(judgeFixture('np003-fires.yaml'), 'NP003');
  t.same(
    found.map((finding) => finding.path),
    ['spec.ingress[0].from[1].namespaceSelector', 'spec.egress[0].to[0].namespaceSelector'],
  );
  t.equal(
    found[0]?.message,
    'an empty namespaceSelector matches all namespaces, so pods with app=prometheus in every namespace of the cluster can connect to these pods, including namespaces created later.',
  );
  t.equal(
    found[1]?.message,
    'an empty namespaceSelector matches all namespaces, so these pods can connect to every pod in every namespace of the cluster, including namespaces created later.',
  );
  t.equal(
    found[0]?.fix,
    'Select the namespaces by name: namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: <namespace>}}.',
  );
});

t.test('namespaces selected by name pass', async (t) => {
  for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
    const decision = judgeFixture('np003-passes.yaml', { namespace });
    t.same(decision.findings, [], namespace);
  }
});
