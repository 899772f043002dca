import t from 'tap';
import { assertLevels, findingsOf, judgeFixture } from './judge.ts';

t.test('namespaceSelector-only and podSelector-only peers in one rule: warn in every mode', async (t) => {
  assertLevels(t, 'np007-fires.yaml', 'NP007', { observe: 'warn', constrain: 'warn', enforce: 'warn' }, { alone: true });
  const [finding] = findingsOf(judgeFixture('np007-fires.yaml'), 'NP007');
  t.equal(finding?.path, 'spec.ingress[0].from');
  t.equal(
    finding?.message,
    'spec.ingress[0].from[0] (namespaceSelector only) and spec.ingress[0].from[1] (podSelector only) are separate list items, so the sources are every pod in the selected namespaces OR the selected pods in this namespace, not the selected pods in the selected namespaces.',
  );
  t.match(finding?.fix, 'put namespaceSelector and podSelector in one item');
});

t.test('both selectors in one item pass', async (t) => {
  for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
    t.same(judgeFixture('np007-passes.yaml', { namespace }).findings, [], namespace);
  }
});
