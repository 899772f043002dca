import t from 'tap';
import { assertLevels, findingsOf, judgeFixture } from './judge.ts';

t.test(
  'namespaceSelector-only and podSelector-only peers in one rule: warn in every mode',
  async (t) => {
    assertLevels(
      t,
      'np007-fires.yaml',
      'NP007',
      { observe: 'warn', constrain: 'warn', enforce: 'warn' },
      { alone: true },
    );
    const [finding] = findingsOf(judgeFixture('np007-fires.yaml'), 'NP007');
    t.equal(finding?.path, 'spec.ingress[0].from');
    t.equal(
      finding?.message,
      'from[0] (namespaceSelector only) and from[1] (podSelector only) are separate items, so they are ORed, not ANDed; to mean pods matching both, put both selectors in one item.',
    );
    t.match(finding?.fix, 'put namespaceSelector and podSelector in one item');
  },
);

t.test(
  'the warning line keeps the fix within the 256 characters the API server keeps',
  async (t) => {
    const decision = judgeFixture('np007-fires.yaml', { namespace: 'prod-x' });
    const [line] = decision.warnings.filter((warning) => warning.startsWith('netguard NP007'));
    t.ok(line !== undefined && line.length <= 256, `${line?.length} characters`);
    t.match(line, /put both selectors in one item$/, 'the fix is not cut off');
    t.notMatch(line, /…/, 'nothing cut');
  },
);

t.test('both selectors in one item pass', async (t) => {
  for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
    t.same(judgeFixture('np007-passes.yaml', { namespace }).findings, [], namespace);
  }
});
