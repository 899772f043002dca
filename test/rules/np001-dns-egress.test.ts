import t from 'tap';
import { loadFixture } from '../helpers/reviews.ts';
import { assertLevels, findingsOf, judge, judgeFixture, RULE_FIXTURES } from './judge.ts';

const VERBATIM =
  'egress is restricted but DNS (UDP/TCP 53) is not allowed, so every lookup will fail.';

t.test(
  'egress without DNS: the DESIGN.md sentence at spec.policyTypes, level per mode',
  async (t) => {
    assertLevels(
      t,
      'np001-fires-no-dns.yaml',
      'NP001',
      { observe: 'warn', constrain: 'warn', enforce: 'deny' },
      { alone: true },
    );
    const decision = judgeFixture('np001-fires-no-dns.yaml');
    const [finding] = findingsOf(decision, 'NP001');
    t.equal(finding?.path, 'spec.policyTypes');
    t.equal(finding?.message, VERBATIM);
    t.equal(finding?.fix, 'Add an egress rule for port 53 to kube-dns.');
    t.match(
      decision.message,
      `- NP001 dns-egress at spec.policyTypes: ${VERBATIM} Add an egress rule for port 53 to kube-dns.`,
    );
    t.same(decision.warnings, []);
    const observed = judgeFixture('np001-fires-no-dns.yaml', { namespace: 'dev-x' });
    t.same(observed.warnings, [`netguard NP001: spec.policyTypes: ${VERBATIM.replace(/\.$/, '')}`]);
  },
);

t.test(
  'Egress implied by egress rules (no policyTypes): the finding points at spec.egress',
  async (t) => {
    const [finding] = findingsOf(judgeFixture('np001-fires-implied-egress.yaml'), 'NP001');
    t.equal(finding?.path, 'spec.egress');
    t.equal(finding?.message, VERBATIM);
  },
);

t.test('only UDP, or only TCP, allowed: each has its own sentence', async (t) => {
  const [udp] = findingsOf(judgeFixture('np001-fires-udp-only.yaml'), 'NP001');
  t.equal(
    udp?.message,
    'egress allows DNS over UDP 53 but not TCP 53, so lookups whose answers do not fit in a UDP packet will fail.',
  );
  t.equal(udp?.fix, 'Add {protocol: TCP, port: 53} to the DNS egress rule.');
  const [tcp] = findingsOf(judgeFixture('np001-fires-tcp-only.yaml'), 'NP001');
  t.equal(
    tcp?.message,
    'egress allows DNS over TCP 53 but not UDP 53, so almost every lookup will fail.',
  );
  t.equal(tcp?.fix, 'Add {protocol: UDP, port: 53} to the DNS egress rule.');
});

t.test('port 53 open only to peers that are not the DNS pods', async (t) => {
  const [finding] = findingsOf(judgeFixture('np001-fires-wrong-peer.yaml'), 'NP001');
  t.equal(
    finding?.message,
    'egress opens port 53 only to destinations that are not the DNS pods (k8s-app=kube-dns in namespace kube-system), so every lookup will fail.',
  );
  t.match(
    finding?.fix,
    'namespaceSelector kubernetes.io/metadata.name=kube-system with podSelector k8s-app=kube-dns',
  );
});

t.test(
  'DNS allowed by the policy itself: explicit ports, named ports, endPort ranges, a rule without ports',
  async (t) => {
    for (const file of [
      'np001-passes-dns-rule.yaml',
      'np001-passes-named-ports.yaml',
      'np001-passes-end-port.yaml',
      'np001-passes-no-ports.yaml',
      'np001-passes-ingress-only.yaml',
    ]) {
      for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
        t.same(
          findingsOf(judgeFixture(file, { namespace }), 'NP001'),
          [],
          `${file} in ${namespace}`,
        );
      }
    }
  },
);

t.test('a named port means its own protocol only: `dns` over TCP is not TCP 53', async (t) => {
  const [object] = loadFixture(`${RULE_FIXTURES}/np001-passes-named-ports.yaml`);
  const swapped = JSON.parse(JSON.stringify(object).replace('"dns-tcp"', '"dns"'));
  const [finding] = findingsOf(judge(swapped), 'NP001');
  t.match(finding?.message, /^egress allows DNS over UDP 53 but not TCP 53,/);
});

t.test(
  'DNS allowed for the namespace: the baseline annotation or another policy with an empty podSelector',
  async (t) => {
    t.same(
      findingsOf(judgeFixture('np001-namespace-allow-dns.yaml'), 'NP001'),
      [],
      'netguard.dev/allow-dns: "true" on the namespace',
    );
    t.same(
      findingsOf(judgeFixture('np001-namespace-policy.yaml'), 'NP001'),
      [],
      'allow-dns policy with podSelector {}',
    );
    const [finding] = findingsOf(
      judgeFixture('np001-other-policy-selects-some-pods.yaml'),
      'NP001',
    );
    t.equal(finding?.message, VERBATIM, 'a DNS policy for other pods does not count');
  },
);

t.test('the annotation must say "true"', async (t) => {
  const [namespace, policy] = loadFixture(`${RULE_FIXTURES}/np001-namespace-allow-dns.yaml`);
  t.ok(namespace && policy);
  const off = JSON.parse(
    JSON.stringify(namespace).replace(
      '"netguard.dev/allow-dns":"true"',
      '"netguard.dev/allow-dns":"false"',
    ),
  );
  t.equal(findingsOf(judge(policy ?? {}, { others: [off] }), 'NP001').length, 1);
});
