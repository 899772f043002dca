import t from 'tap';
import { assertLevels, defaultLevelsPolicy, findingsOf, judgeFixture } from './judge.ts';

t.test('the shipped policy turns NP010 off everywhere', async (t) => {
  assertLevels(t, 'np010-fires.yaml', 'NP010', {
    observe: 'off',
    constrain: 'off',
    enforce: 'off',
  });
  t.same(judgeFixture('np010-fires.yaml').findings, []);
});

t.test('default levels: warn in every mode, the words', async (t) => {
  const policy = defaultLevelsPolicy();
  assertLevels(
    t,
    'np010-fires.yaml',
    'NP010',
    { observe: 'warn', constrain: 'warn', enforce: 'warn' },
    { alone: true, policy },
  );
  const [finding] = findingsOf(judgeFixture('np010-fires.yaml', { policy }), 'NP010');
  t.equal(finding?.path, 'spec.podSelector');
  t.equal(
    finding?.message,
    'podSelector uses none of the required labels (app, app.kubernetes.io/name, tier), so it is not tied to the labels every pod is checked for and may drift from the workload it protects.',
  );
  t.equal(finding?.fix, 'Select the pods by app and/or tier.');
});

t.test('a selector on a required label (or its alias) passes', async (t) => {
  const policy = defaultLevelsPolicy();
  for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
    t.same(judgeFixture('np010-passes.yaml', { namespace, policy }).findings, [], namespace);
  }
});
