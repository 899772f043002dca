import t from 'tap';
import { assertLevels, findingsOf, judgeFixture } from './judge.ts';

t.test('policyTypes omitted: warn in every mode, the words', async (t) => {
  assertLevels(
    t,
    'np009-fires.yaml',
    'NP009',
    { observe: 'warn', constrain: 'warn', enforce: 'warn' },
    { alone: true },
  );
  const [finding] = findingsOf(judgeFixture('np009-fires.yaml'), 'NP009');
  t.equal(finding?.path, 'spec.policyTypes');
  t.equal(
    finding?.message,
    'policyTypes is omitted, so Kubernetes infers [Ingress] and this policy restricts no egress at all.',
  );
  t.equal(
    finding?.fix,
    "Set policyTypes explicitly (today's inferred value is [Ingress]; add Egress to restrict outgoing traffic).",
  );
});

t.test('with egress rules the inferred types include Egress', async (t) => {
  const [finding] = findingsOf(judgeFixture('np001-fires-implied-egress.yaml'), 'NP009');
  t.match(finding?.message, 'infers [Ingress, Egress] from the egress rules');
});

t.test('explicit policyTypes pass', async (t) => {
  for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
    t.same(judgeFixture('np009-passes.yaml', { namespace }).findings, [], namespace);
  }
});
