import t from 'tap';
import { assertLevels, defaultLevelsPolicy, findingsOf, judgeFixture } from './judge.ts';

t.test(
  'an ingress rule without ports: shipped levels (no staging override any more) and the words',
  async (t) => {
    assertLevels(
      t,
      'np008-fires.yaml',
      'NP008',
      { observe: 'warn', constrain: 'warn', enforce: 'deny' },
      { alone: true },
    );
    const [finding] = findingsOf(judgeFixture('np008-fires.yaml'), 'NP008');
    t.equal(finding?.path, 'spec.ingress[0].ports');
    t.equal(
      finding?.message,
      'this ingress rule lists no ports, so its sources can connect to every port of these pods, admin and debug ports included.',
    );
    t.equal(
      finding?.fix,
      'List the ports the pods serve, e.g. ports: [{protocol: TCP, port: 8080}].',
    );
  },
);

t.test("the rule's own levels: constrain only warns", async (t) => {
  assertLevels(
    t,
    'np008-fires.yaml',
    'NP008',
    { observe: 'warn', constrain: 'warn', enforce: 'deny' },
    { alone: true, policy: defaultLevelsPolicy() },
  );
});

t.test('ingress rules with ports pass; egress rules are not judged', async (t) => {
  for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
    t.same(judgeFixture('np008-passes.yaml', { namespace }).findings, [], namespace);
  }
});
