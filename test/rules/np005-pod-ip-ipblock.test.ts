import t from 'tap';
import { assertLevels, findingsOf, judgeFixture } from './judge.ts';

t.test('an ipBlock inside the pod CIDR: level per mode and the words', async (t) => {
  assertLevels(
    t,
    'np005-fires.yaml',
    'NP005',
    { observe: 'warn', constrain: 'warn', enforce: 'deny' },
    { alone: true },
  );
  const [finding] = findingsOf(judgeFixture('np005-fires.yaml'), 'NP005');
  t.equal(finding?.path, 'spec.ingress[0].from[0].ipBlock.cidr');
  t.equal(
    finding?.message,
    '10.244.3.0/24 overlaps the cluster range 10.244.0.0/16, and pod and service IPs change whenever pods are rescheduled, so this rule will not keep matching the pods it was written for.',
  );
  t.equal(
    finding?.fix,
    'Select in-cluster peers with a podSelector or namespaceSelector instead, or add the cluster range to except.',
  );
});

t.test('a wider block whose except leaves a cluster range in still fires', async (t) => {
  const [finding] = findingsOf(judgeFixture('np005-fires-wide.yaml'), 'NP005');
  t.match(finding?.message, /^10\.0\.0\.0\/8 overlaps the cluster range 10\.96\.0\.0\/12,/);
});

t.test('external blocks, carved-out cluster ranges and world CIDRs pass', async (t) => {
  for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
    t.same(findingsOf(judgeFixture('np005-passes.yaml', { namespace }), 'NP005'), [], namespace);
  }
});
