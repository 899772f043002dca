import t from 'tap';
import { loadFixture } from '../helpers/reviews.ts';
import { findingsOf, judge, rulesOf, type JudgeOptions } from './judge.ts';
import type { Decision } from '../../src/engine/types.ts';

/** Adversarial fixtures from the review of issue 11: each file is named for what it tries. */
function tryFixture(file: string, options: JudgeOptions = {}): Decision {
  const documents = loadFixture(`test/fixtures/adversarial/${file}`);
  const object = documents.at(-1);
  if (object === undefined) throw new Error(`${file} is empty`);
  return judge(object, {
    ...options,
    others: [...documents.slice(0, -1), ...(options.others ?? [])],
  });
}

t.test('every namespace without {}: NP003 as for {}, denied in production', async (t) => {
  for (const file of [
    'every-namespace-exists-on-name-label.yaml',
    'every-namespace-notin.yaml',
    'every-namespace-doesnotexist.yaml',
  ]) {
    const decision = tryFixture(file);
    t.equal(decision.allowed, false, `${file} denied`);
    const [finding] = findingsOf(decision, 'NP003');
    t.equal(finding?.level, 'deny', file);
    t.equal(finding?.path, 'spec.ingress[0].from[0].namespaceSelector', file);
    t.match(
      finding?.message,
      /requires no label a namespace must carry, so it matches all namespaces/,
      file,
    );
  }
});

t.test('the internet as an ingress source: NP012 for non-frontends, however spelled', async (t) => {
  for (const file of ['internet-ingress-v4.yaml', 'internet-ingress-v6.yaml']) {
    const decision = tryFixture(file);
    t.equal(decision.allowed, false, `${file} denied in production`);
    const [finding] = findingsOf(decision, 'NP012');
    t.equal(finding?.path, 'spec.ingress[0].from', file);
    t.equal(
      finding?.message,
      'these sources reach the internet, so anyone can connect to pods that are not frontends (tier: frontend).',
    );
    t.same(rulesOf(decision), ['NP012'], `${file}: NP012 alone (no NP005 for the internet)`);
    t.equal(
      findingsOf(tryFixture(file, { namespace: 'staging-x' }), 'NP012')[0]?.level,
      'deny',
      'deny in constrain',
    );
    t.equal(
      findingsOf(tryFixture(file, { namespace: 'dev-x' }), 'NP012')[0]?.level,
      'warn',
      'warn in observe',
    );
  }
  const split = tryFixture('internet-ingress-split-across-rules.yaml');
  t.same(
    findingsOf(split, 'NP012').map((f) => f.path),
    ['spec.ingress'],
    'halves in two rules compose the internet',
  );
  t.same(findingsOf(split, 'NP005'), [], 'not NP005: the internet, not pod addresses');
  t.same(
    tryFixture('internet-ingress-frontend.yaml').findings,
    [],
    'frontends (tier In [frontend]) may face the internet',
  );
  const across = tryFixture('internet-ingress-split-across-policies.yaml');
  t.same(
    findingsOf(across, 'NP012').map((f) => [f.path, f.level]),
    [['spec.ingress', 'deny']],
    'two policies for the same pods add up',
  );
  t.match(
    findingsOf(across, 'NP012')[0]?.message,
    'with NetworkPolicy api-public-low (which selects these pods too)',
  );
});

t.test('the internet as an egress destination: NP004 world sentence, not NP005', async (t) => {
  const halves = tryFixture('internet-egress-two-halves.yaml');
  t.same(rulesOf(halves), ['NP004']);
  t.same(
    findingsOf(halves, 'NP004').map((f) => f.message),
    [
      '0.0.0.0/1 lets these pods reach any address on the internet.',
      '128.0.0.0/1 lets these pods reach any address on the internet.',
    ],
  );
  const mapped = tryFixture('internet-egress-ipv4-mapped.yaml');
  t.same(rulesOf(mapped), ['NP004'], 'IPv4-mapped IPv6 is judged as IPv4');
  t.equal(mapped.allowed, false);
});

t.test(
  'every port spelled otherwise: NP008 as for no ports; a named port is not DNS-only',
  async (t) => {
    for (const file of [
      'every-port-port-range-1-65535.yaml',
      'every-port-protocol-without-port.yaml',
      'every-port-port-null.yaml',
    ]) {
      const decision = tryFixture(file);
      const [finding] = findingsOf(decision, 'NP008');
      t.equal(finding?.level, 'deny', `${file}: NP008 deny in production`);
      t.equal(finding?.path, 'spec.ingress[0].ports', file);
      t.match(
        finding?.message,
        /cover every port of a protocol, so its sources can connect to every port of these pods/,
        file,
      );
    }
    const named = tryFixture('named-port-without-to.yaml');
    t.same(
      findingsOf(named, 'NP002').map((f) => [f.path, f.level]),
      [['spec.egress[0].to', 'deny']],
      'named ports without `to` are not exempt; numeric 53 is',
    );
  },
);

t.test(
  'allow within the namespace: admitted in staging (constrain), NP008 still denies in production',
  async (t) => {
    const staging = tryFixture('same-namespace-recipe.yaml', { namespace: 'staging-x' });
    t.equal(staging.allowed, true, 'the recipe is admitted in staging');
    t.same(findingsOf(staging, 'NP008'), [], 'no NP008 for same-namespace peers in constrain');
    const prod = tryFixture('same-namespace-recipe.yaml', { namespace: 'prod-x' });
    t.equal(findingsOf(prod, 'NP008')[0]?.level, 'deny');
  },
);

t.test('NP001 messages lead to the fix in one step', async (t) => {
  const udp = findingsOf(tryFixture('dns-udp-only.yaml'), 'NP001')[0];
  t.match(udp?.message, 'allows DNS over UDP 53 but not TCP 53');
  t.equal(udp?.fix, 'Add {protocol: TCP, port: 53} to the DNS egress rule.');
  const wrongPeer = findingsOf(tryFixture('dns-udp-only-wrong-peer.yaml'), 'NP001')[0];
  t.match(
    wrongPeer?.message,
    'opens port 53 (UDP only) only to destinations that are not the DNS pods',
  );
  t.match(wrongPeer?.fix, 'Open both UDP 53 and TCP 53.');
  const denyAll = findingsOf(tryFixture('dns-deny-all-with-udp-neighbour.yaml'), 'NP001')[0];
  t.match(denyAll?.message, 'DNS over UDP is allowed only by NetworkPolicy team-dns');
  t.notMatch(
    denyAll?.fix,
    /^Add \{protocol: TCP, port: 53\} to the DNS egress rule\.$/,
    'never points at a rule this policy does not have',
  );
  t.equal(
    denyAll?.fix,
    'Add {protocol: TCP, port: 53} to the DNS rule of NetworkPolicy team-dns, or add an egress rule for UDP and TCP 53 to kube-dns here.',
  );
});
