import t from 'tap';
import { assertLevels, findingsOf, judgeFixture } from './judge.ts';

t.test('an ingress rule without from: level per mode and the words', async (t) => {
  assertLevels(
    t,
    'np002-fires-ingress.yaml',
    'NP002',
    { observe: 'warn', constrain: 'deny', enforce: 'deny' },
    { alone: true },
  );
  const decision = judgeFixture('np002-fires-ingress.yaml', { namespace: 'staging-x' });
  const [finding] = findingsOf(decision, 'NP002');
  t.equal(finding?.path, 'spec.ingress[0].from');
  t.equal(
    finding?.message,
    'this ingress rule has no from, so any source (every pod in every namespace and any address outside the cluster) can connect to these pods on 8080/TCP.',
  );
  t.equal(
    finding?.fix,
    'List the allowed sources under from: a podSelector, a namespaceSelector by kubernetes.io/metadata.name, or an ipBlock.',
  );
  t.match(
    decision.message,
    /^NetworkPolicy staging-x\/api-ingress violates 1 guardrail \(environment staging, mode constrain\):\n- NP002 allow-all at spec\.ingress\[0\]\.from: /,
  );
});

t.test('every offending rule is reported, not just the first', async (t) => {
  const found = findingsOf(judgeFixture('np002-fires-every-rule.yaml'), 'NP002');
  t.same(
    found.map((finding) => finding.path),
    ['spec.ingress[1].from', 'spec.egress[0].to'],
  );
  t.equal(
    found[1]?.message,
    'this egress rule has an empty to, so these pods can connect to any destination, in the cluster or on the internet, on 443/TCP.',
  );
});

t.test('named peers pass; an egress rule that opens only port 53 is exempt', async (t) => {
  for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
    t.same(findingsOf(judgeFixture('np002-passes.yaml', { namespace }), 'NP002'), []);
    t.same(findingsOf(judgeFixture('np002-passes-dns-only.yaml', { namespace }), 'NP002'), []);
  }
});

t.test('a port range that contains 53 is not "only DNS"', async (t) => {
  const [finding] = findingsOf(judgeFixture('np002-fires-dns-range.yaml'), 'NP002');
  t.equal(finding?.path, 'spec.egress[0].to');
  t.match(finding?.message, 'on 53/UDP, 1-1024/TCP.');
});
