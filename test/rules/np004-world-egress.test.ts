import t from 'tap';
import { assertLevels, findingsOf, judgeFixture } from './judge.ts';

t.test('0.0.0.0/0: the DESIGN.md sentences, level per mode', async (t) => {
  assertLevels(
    t,
    'np004-fires-world.yaml',
    'NP004',
    { observe: 'warn', constrain: 'warn', enforce: 'deny' },
    { alone: true },
  );
  const decision = judgeFixture('np004-fires-world.yaml');
  const [finding] = findingsOf(decision, 'NP004');
  t.equal(finding?.path, 'spec.egress[0].to[0].ipBlock.cidr');
  t.equal(finding?.message, '0.0.0.0/0 lets these pods reach any address on the internet.');
  t.equal(finding?.fix, 'Allow only the destinations they need (approved: 160.79.104.0/23).');
  t.match(
    decision.message,
    '- NP004 world-egress at spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/0 lets these pods reach any address on the internet. Allow only the destinations they need (approved: 160.79.104.0/23).\nNeed more time? netguard exception request -n prod-x --rule NP004 --target networkpolicy/crawler-egress --expires 14d --reason "<why this is needed>" --apply',
  );
});

t.test(
  'every ipBlock is judged: except, IPv6, unapproved, merely overlapping, unparsable',
  async (t) => {
    const found = findingsOf(judgeFixture('np004-fires-variants.yaml'), 'NP004');
    t.same(
      found.map((finding) => [finding.path, finding.message]),
      [
        [
          'spec.egress[0].to[0].ipBlock.cidr',
          '0.0.0.0/0 lets these pods reach the internet (except 10.0.0.0/8, 192.168.0.0/16).',
        ],
        [
          'spec.egress[0].to[1].ipBlock.cidr',
          '::/0 lets these pods reach any address on the internet.',
        ],
        [
          'spec.egress[1].to[0].ipBlock.cidr',
          '203.0.113.0/24 is not inside an approved egress range, so these pods can reach addresses nobody reviewed.',
        ],
        [
          'spec.egress[1].to[1].ipBlock.cidr',
          '160.79.104.0/22 is not inside an approved egress range, so these pods can reach addresses nobody reviewed.',
        ],
        [
          'spec.egress[1].to[2].ipBlock.cidr',
          '"160.79.104.0/33" is not a valid CIDR, so netguard cannot tell where these pods may connect.',
        ],
      ],
    );
  },
);

t.test('blocks wholly inside an approved range pass', async (t) => {
  for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
    t.same(judgeFixture('np004-passes.yaml', { namespace }).findings, [], namespace);
  }
});
