import { RULES_BY_ID } from '../../src/rules/registry.ts';
import t from 'tap';
import { parsePolicy } from '../../src/config/load.ts';
import { readFileSync } from 'node:fs';
import { assertLevels, findingsOf, judgeFixture } from './judge.ts';

t.test('selectors on generated labels: every one, level per mode, the words', async (t) => {
  assertLevels(
    t,
    'np006-fires.yaml',
    'NP006',
    { observe: 'warn', constrain: 'warn', enforce: 'deny' },
    { alone: true },
  );
  const found = findingsOf(judgeFixture('np006-fires.yaml'), 'NP006');
  t.same(
    found.map((finding) => finding.path),
    [
      'spec.podSelector.matchLabels["pod-template-hash"]',
      'spec.ingress[0].from[0].podSelector.matchExpressions[0].key',
    ],
  );
  t.equal(
    found[0]?.message,
    '"pod-template-hash" is a label controllers generate and change on rollouts and restarts, so this selector will stop matching the pods it was written for.',
  );
  t.equal(found[0]?.fix, 'Select on a label you own, such as app or app.kubernetes.io/name.');
});

t.test('stable labels pass', async (t) => {
  for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
    t.same(judgeFixture('np006-passes.yaml', { namespace }).findings, [], namespace);
  }
});

t.test('the list of ephemeral labels comes from the config', async (t) => {
  const text = readFileSync('policies/guardrails.yaml', 'utf8').replace(
    'clusterCIDRs:',
    'ephemeralLabels: [version]\n    clusterCIDRs:',
  );
  const policy = parsePolicy(text, 'custom', RULES_BY_ID);
  t.same(
    findingsOf(judgeFixture('np006-fires.yaml', { policy }), 'NP006'),
    [],
    'pod-template-hash no longer listed',
  );
  t.equal(
    findingsOf(judgeFixture('np010-fires.yaml', { policy }), 'NP006')[0]?.path,
    'spec.podSelector.matchLabels.version',
  );
});
