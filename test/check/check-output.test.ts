import t from 'tap';
import { judgeManifests } from '../../src/cli/check.ts';
import { renderJson, renderText } from '../../src/cli/check-output.ts';
import { readManifests } from '../../src/manifests.ts';
import { loadWorld } from '../../src/world.ts';
import { FIXTURES } from './run-cli.ts';

// No exceptions file: nothing is waived.
const world = loadWorld({
  config: 'policies/guardrails.yaml',
  exceptions: 'test/fixtures/no-such-exceptions.yaml',
});
const policy = world.policy();
const report = (paths: string[], stdin = '') => {
  const { manifests, errors } = readManifests(paths, () => stdin);
  const results = judgeManifests(manifests, {
    world,
    environment: undefined,
    namespace: 'default',
    now: new Date('2026-11-22T12:00:00Z'),
  });
  return {
    results,
    errors,
    policy: 'policies/guardrails.yaml',
    notes: [],
    guesses: [],
    skipped: [],
  };
};

t.test('colour only when asked (the CLI asks when stdout is a TTY)', async (t) => {
  const denied = report([`${FIXTURES}/denied.yaml`]);
  const coloured = renderText(denied, { color: true, policy });
  t.match(coloured, '\u001b[31mDENIED \u001b[39m');
  t.match(coloured, '\u001b[33mwarn\u001b[39m NP007');
  t.notMatch(renderText(denied, { color: false, policy }), /\u001b/);
});

t.test('names from manifests are printed without control characters', async (t) => {
  const hostile =
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "evil\\u001b[2Jname", namespace: prod-x}\n';
  const text = renderText(report(['-'], hostile), { color: false, policy });
  t.notMatch(text, /\u001b/);
  t.match(text, 'ConfigMap prod-x/evil [2Jname');
  t.match(renderJson(report(['-'], hostile)), '"name": "evil\\u001b[2Jname"', 'JSON escapes it');
});

t.test(
  'the judged object and the cluster view see the namespace the API server would give',
  async (t) => {
    const { results } = report(
      ['-'],
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: prod-a, namespace: ignored}\n',
    );
    t.equal(results[0]?.decision.namespace, '');
    t.equal(results[0]?.decision.name, 'prod-a');
    t.equal(results[0]?.decision.environment, 'production');
  },
);

t.test('an empty document and a List of nothing are not objects and not errors', async (t) => {
  const { results, errors } = report(['-'], '---\n---\napiVersion: v1\nkind: List\nitems: []\n');
  t.same(results, []);
  t.same(errors, []);
});

t.test('a document that is not an object is an error naming it', async (t) => {
  const { errors } = report(
    ['-'],
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n- just\n- a list\n---\nkind: ConfigMap\napiVersion: v1\nmetadata: {}\n',
  );
  t.same(
    errors.map((error) => [error.document, error.problem]),
    [
      [2, 'no apiVersion or kind: not a Kubernetes object'],
      [3, 'metadata.name: required (or metadata.generateName)'],
    ],
  );
});
