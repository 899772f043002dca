import t from 'tap';
import type { Decision } from '../../src/engine/types.ts';
import type { Mode } from '../../src/vocabulary.ts';
import { loadFixture } from '../helpers/reviews.ts';
import { findingsOf, judge, NAMESPACE_OF, rulesOf, type JudgeOptions } from './judge.ts';

/** Adversarial fixtures from the review of issue 22: the last document is judged, the rest is the cluster. */
function tryFixture(file: string, options: JudgeOptions = {}): Decision {
  const documents = loadFixture(`test/fixtures/adversarial/${file}`);
  const object = documents.at(-1);
  if (object === undefined) throw new Error(`${file} is empty`);
  return judge(object, { ...options, others: documents.slice(0, -1) });
}

/** An UPDATE fixture: the first document is oldObject, the last the new object. */
function tryUpdate(file: string, mode: Mode = 'enforce'): Decision {
  const [old, ...rest] = loadFixture(`test/fixtures/adversarial/${file}`);
  const object = rest.at(-1);
  if (old === undefined || object === undefined) throw new Error(`${file} needs two documents`);
  return judge(object, { operation: 'UPDATE', oldObject: old, namespace: NAMESPACE_OF[mode] });
}

const LEVEL: Readonly<Record<Mode, string>> = {
  observe: 'warn',
  constrain: 'deny',
  enforce: 'deny',
};

t.test('NP012: the internet with a hole in it is still the internet, in every mode', async (t) => {
  const cases: [string, string, RegExp][] = [
    [
      'internet-ingress-except-rfc1918.yaml',
      'spec.ingress[0].from',
      /reach the internet \(except 10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16\), so anyone can connect/,
    ],
    [
      'internet-ingress-except-one-host.yaml',
      'spec.ingress[0].from',
      /the internet \(except 8\.8\.8\.8\/32\)/,
    ],
    [
      'internet-ingress-v6-except-loopback.yaml',
      'spec.ingress[0].from',
      /the internet \(except ::1\/128\)/,
    ],
    [
      'internet-ingress-halves-with-except.yaml',
      'spec.ingress[0].from',
      /the internet \(except 10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16\)/,
    ],
    [
      'internet-ingress-mapped-with-except.yaml',
      'spec.ingress[0].from',
      /the internet \(except 10\.0\.0\.0\/8\)/,
    ],
    ['internet-ingress-public-blocks.yaml', 'spec.ingress[0].from', /reach the internet/],
  ];
  for (const [file, path, words] of cases) {
    for (const mode of ['observe', 'constrain', 'enforce'] as const) {
      const decision = tryFixture(file, { namespace: NAMESPACE_OF[mode] });
      const found = findingsOf(decision, 'NP012');
      t.same(
        found.map((f) => [f.path, f.level]),
        [[path, LEVEL[mode]]],
        `${file} in ${mode}`,
      );
      t.match(found[0]?.message, words, `${file}: the words`);
      t.same(findingsOf(decision, 'NP005'), [], `${file}: the internet, not pod addresses`);
    }
  }
});

t.test('NP004 says "the internet (except ...)" for a world CIDR with holes', async (t) => {
  const [finding] = findingsOf(tryFixture('internet-egress-except-rfc1918.yaml'), 'NP004');
  t.equal(finding?.level, 'deny');
  t.equal(finding?.path, 'spec.egress[0].to[0].ipBlock.cidr');
  t.equal(
    finding?.message,
    '0.0.0.0/0 lets these pods reach the internet (except 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16).',
  );
});

t.test('NP012 across policies jointly selecting one label set, however spelled', async (t) => {
  for (const [file, others] of [
    ['internet-ingress-across-policies-in.yaml', 'api-low'],
    ['internet-ingress-across-policies-narrower.yaml', 'api-low'],
    ['internet-ingress-across-policies-empty-selector.yaml', 'api-low'],
  ] as const) {
    for (const mode of ['observe', 'constrain', 'enforce'] as const) {
      const found = findingsOf(tryFixture(file, { namespace: NAMESPACE_OF[mode] }), 'NP012');
      t.same(
        found.map((f) => [f.path, f.level]),
        [['spec.ingress', LEVEL[mode]]],
        `${file} in ${mode}`,
      );
      t.match(found[0]?.message, `with NetworkPolicy ${others} (which selects these pods too)`);
    }
  }
  t.same(
    findingsOf(tryFixture('internet-ingress-neighbour-alone.yaml'), 'NP012'),
    [],
    'a neighbour that opens the internet alone does not make this partner range a finding',
  );
});

t.test('NP008: every port is fewer than 1,024 closed, across rules and policies', async (t) => {
  for (const file of ['every-port-2-65535.yaml', 'every-port-but-22.yaml']) {
    const found = findingsOf(tryFixture(file), 'NP008');
    t.same(
      found.map((f) => [f.path, f.level]),
      [['spec.ingress[0].ports', 'deny']],
      file,
    );
    t.match(found[0]?.message, /cover every port of a protocol/);
  }
  const split = findingsOf(tryFixture('every-port-split-across-rules.yaml'), 'NP008');
  t.same(
    split.map((f) => [f.path, f.level]),
    [['spec.ingress', 'deny']],
  );
  t.match(
    split[0]?.message,
    'rules spec.ingress[0], spec.ingress[1] together open every TCP port (fewer than 1,024 closed)',
  );
  for (const mode of ['observe', 'constrain', 'enforce'] as const) {
    const across = findingsOf(
      tryFixture('every-port-across-policies.yaml', { namespace: NAMESPACE_OF[mode] }),
      'NP008',
    );
    t.same(
      across.map((f) => [f.path, f.level]),
      [['spec.ingress', mode === 'enforce' ? 'deny' : 'warn']],
      `across policies in ${mode}`,
    );
    t.match(
      across[0]?.message,
      'with NetworkPolicy api-ingress-low (which selects these pods too)',
    );
  }
});

t.test('controls stay admitted', async (t) => {
  for (const file of [
    'control-partner-16.yaml',
    'control-cdn-ipv6-29.yaml',
    'control-two-ports-one-peer.yaml',
  ]) {
    for (const mode of ['observe', 'constrain', 'enforce'] as const) {
      const decision = tryFixture(file, { namespace: NAMESPACE_OF[mode] });
      t.equal(decision.allowed, true, `${file} admitted in ${mode}`);
      t.same(
        rulesOf(decision).filter((rule) => ['NP008', 'NP012'].includes(rule)),
        [],
        `${file}: no NP008 or NP012 in ${mode}`,
      );
    }
  }
});

t.test('widening is judged per finding, by what the finding is about', async (t) => {
  const NEW = (decision: Decision, rule: string): [string, string, boolean][] =>
    findingsOf(decision, rule).map((f) => [
      f.path,
      f.level,
      f.notes.some((note) => note.startsWith('pre-existing')),
    ]);
  t.same(
    NEW(tryUpdate('widened-update-remove-except.yaml'), 'NP004'),
    [['spec.egress[0].to[0].ipBlock.cidr', 'deny', false]],
    'removing an except entry makes the finding new',
  );
  t.same(
    NEW(tryUpdate('widened-update-peers-to-internet.yaml'), 'NP004'),
    [['spec.egress[0].to[0].ipBlock.cidr', 'deny', false]],
    "turning a rule's peer into the internet makes the finding new",
  );
  for (const mode of ['constrain', 'enforce'] as const) {
    t.same(
      NEW(tryUpdate('widened-update-np003-peer-podselector.yaml', mode), 'NP003'),
      [['spec.ingress[0].from[0].namespaceSelector', 'deny', false]],
      `dropping the podSelector of an NP003 peer makes it new (${mode})`,
    );
  }
  t.same(
    NEW(tryUpdate('widened-update-portless-add-peer.yaml'), 'NP008'),
    [['spec.ingress[0].ports', 'deny', false]],
    'adding a peer to a port-less rule makes NP008 new',
  );
  const fix = tryUpdate('widened-update-unrelated-rule.yaml');
  t.same(
    NEW(fix, 'NP004'),
    [['spec.egress[1].to[0].ipBlock.cidr', 'warn', true]],
    'an unrelated, finding-free rule keeps the old finding pre-existing (its path moved)',
  );
  t.equal(fix.allowed, true, 'the incident fix is admitted');
});
