import t from 'tap';
import { parseNetworkPolicy } from '../../src/model/network-policy.ts';
import { findingsOf, judge, rulesOf } from './judge.ts';

const policy = (spec: Record<string, unknown>) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'p', namespace: 'prod-x' },
  spec: { podSelector: { matchLabels: { app: 'api' } }, ...spec },
});

const typesOf = (spec: Record<string, unknown>): string[] => {
  const parsed = parseNetworkPolicy(policy(spec));
  return parsed.ok ? [...parsed.policy.policyTypes].sort() : ['invalid'];
};

t.test('effective policyTypes as Kubernetes defines them', async (t) => {
  t.same(typesOf({}), ['ingress'], 'nothing written: Ingress');
  t.same(typesOf({ egress: [] }), ['ingress'], 'an empty egress list does not imply Egress');
  t.same(
    typesOf({ egress: [{ to: [{ podSelector: {} }] }] }),
    ['egress', 'ingress'],
    'egress rules imply Egress',
  );
  t.same(typesOf({ policyTypes: ['Egress'] }), ['egress'], 'declared types are taken as written');
  t.same(
    typesOf({ policyTypes: [], egress: [{}] }),
    ['egress', 'ingress'],
    'an empty list is inferred like an absent one',
  );
});

t.test('rules of a direction the policy does not restrict are not judged', async (t) => {
  const decision = judge(
    policy({
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 80 }] },
      ],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }],
    }),
  );
  t.same(rulesOf(decision), [], 'the egress rule has no effect, so neither NP004 nor NP001 speaks');
});

t.test('null from/to/ports (YAML keys with nothing after them) read as absent', async (t) => {
  const decision = judge(
    policy({ policyTypes: ['Ingress'], ingress: [{ from: null, ports: null }] }),
  );
  t.same(
    findingsOf(decision, 'NP002').map((finding) => finding.message),
    [
      'this ingress rule has no from, so any source (every pod in every namespace and any address outside the cluster) can connect to these pods on every port.',
    ],
  );
  t.same(
    findingsOf(decision, 'NP008').map((finding) => finding.path),
    ['spec.ingress[0].ports'],
  );
});

t.test(
  'invalid shapes are reported with the field; the engine skips them (the API server refuses them first)',
  async (t) => {
    const parsed = parseNetworkPolicy(
      policy({ ingress: [{ ports: [{ port: 80, protocol: 'ICMP' }] }] }),
    );
    t.equal(parsed.ok, false);
    if (!parsed.ok) t.match(parsed.problems[0], /^spec\.ingress\[0\]\.ports\[0\]\.protocol: /);
    t.same(judge(policy({ ingress: 'everything' })).findings, []);
  },
);

t.test('a user-supplied CIDR with control characters is quoted in the message', async (t) => {
  const decision = judge(
    policy({
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: { cidr: '1.2.3.0/24\nWarning: fake' } }], ports: [{ port: 443 }] },
        { ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }] },
      ],
    }),
  );
  const [finding] = findingsOf(decision, 'NP004');
  t.equal(
    finding?.message,
    '"1.2.3.0/24\\nWarning: fake" is not a valid CIDR, so netguard cannot tell where these pods may connect.',
  );
  t.notOk(
    decision.message?.split('\n').some((line) => line.startsWith('Warning')),
    'no forged line in the denial',
  );
});

t.test(
  'UPDATE: a finding the old policy already had only warns; one the change adds is denied',
  async (t) => {
    const world = policy({
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443 }] },
        { ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }] },
      ],
    });
    const relabelled = { ...world, metadata: { ...world.metadata, labels: { team: 'a' } } };
    const kept = judge(relabelled, { operation: 'UPDATE', oldObject: world });
    t.equal(kept.allowed, true);
    t.same(
      findingsOf(kept, 'NP004').map((finding) => [finding.level, finding.notes]),
      [['warn', ['pre-existing: the object already had this before the update']]],
    );
    const tidy = policy({
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: { cidr: '160.79.104.0/23' } }], ports: [{ port: 443 }] },
        { ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }] },
      ],
    });
    const introduced = judge(world, { operation: 'UPDATE', oldObject: tidy });
    t.equal(introduced.allowed, false);
    t.same(
      findingsOf(introduced, 'NP004').map((finding) => finding.level),
      ['deny'],
    );
  },
);
