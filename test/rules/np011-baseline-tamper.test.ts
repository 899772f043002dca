import t from 'tap';
import { loadOne } from '../helpers/reviews.ts';
import { findingsOf, judge, NAMESPACE_OF, RULE_FIXTURES } from './judge.ts';

const fixture = (name: string) => loadOne(`${RULE_FIXTURES}/${name}`);
const CONTROLLER = 'system:serviceaccount:netguard-system:netguard-controller';

t.test('a user deleting a baseline policy is denied in every mode, observe included', async (t) => {
  for (const mode of ['observe', 'constrain', 'enforce'] as const) {
    const namespace = NAMESPACE_OF[mode];
    const decision = judge(fixture('np011-baseline.yaml'), {
      namespace,
      operation: 'DELETE',
      oldObject: fixture('np011-baseline.yaml'),
    });
    t.equal(decision.allowed, false, mode);
    const [finding] = findingsOf(decision, 'NP011');
    t.equal(finding?.level, 'deny');
    t.equal(finding?.path, 'metadata.labels["app.kubernetes.io/managed-by"]');
    t.equal(
      finding?.message,
      `this is a baseline NetworkPolicy managed by netguard, and only netguard's controller (${CONTROLLER}) may delete it; deleting it lifts the namespace's isolation.`,
    );
    t.equal(
      finding?.fix,
      `To change the baseline, edit the namespace annotations instead (kubectl annotate namespace ${namespace} netguard.dev/default-deny=Ingress,Egress --overwrite, or netguard.dev/allow-dns); the controller then updates this policy.`,
    );
  }
});

t.test('a user weakening a baseline policy is denied at spec', async (t) => {
  const decision = judge(fixture('np011-baseline-weakened.yaml'), {
    namespace: 'dev-x',
    operation: 'UPDATE',
    oldObject: fixture('np011-baseline.yaml'),
  });
  t.equal(decision.allowed, false);
  const [finding] = findingsOf(decision, 'NP011');
  t.equal(finding?.path, 'spec');
  t.match(finding?.message, 'may change its spec; the controller would revert the edit as drift.');
});

t.test('removing the managed-by label does not escape the rule', async (t) => {
  const decision = judge(fixture('np011-baseline-unlabelled.yaml'), {
    operation: 'UPDATE',
    oldObject: fixture('np011-baseline.yaml'),
  });
  t.equal(findingsOf(decision, 'NP011')[0]?.path, 'metadata.labels');
  t.equal(decision.allowed, false);
});

t.test("the controller's service account may change and delete it", async (t) => {
  const old = fixture('np011-baseline.yaml');
  t.same(
    findingsOf(
      judge(fixture('np011-baseline-weakened.yaml'), {
        operation: 'UPDATE',
        oldObject: old,
        username: CONTROLLER,
      }),
      'NP011',
    ),
    [],
  );
  const deleted = judge(old, { operation: 'DELETE', oldObject: old, username: CONTROLLER });
  t.same(deleted.findings, []);
  t.equal(deleted.allowed, true);
});

t.test('unmanaged policies, and updates that change nothing guarded, pass', async (t) => {
  const unmanaged = fixture('np011-unmanaged.yaml');
  t.equal(judge(unmanaged, { operation: 'DELETE', oldObject: unmanaged }).allowed, true);
  const old = fixture('np011-baseline.yaml');
  const touched = {
    ...fixture('np011-baseline.yaml'),
    metadata: { ...(old['metadata'] as object), resourceVersion: '42' },
  };
  t.same(findingsOf(judge(touched, { operation: 'UPDATE', oldObject: old }), 'NP011'), []);
});

t.test(
  'NP011 on CREATE: a reserved name or the managed-by label, by anyone but the controller',
  async (t) => {
    const baseline = fixture('np011-baseline.yaml');
    for (const namespace of ['dev-x', 'staging-x', 'prod-x']) {
      const [found] = findingsOf(judge(baseline, { namespace }), 'NP011');
      t.equal(found?.level, 'deny', `deny in ${namespace}, observe included`);
    }
    const [found] = findingsOf(judge(baseline), 'NP011');
    t.equal(found?.path, 'metadata.name');
    t.match(
      found?.message,
      /is a reserved baseline name, and only netguard's controller \(system:serviceaccount:netguard-system:netguard-controller\) may create such a policy/,
    );
    t.same(
      findingsOf(
        judge(baseline, { username: 'system:serviceaccount:netguard-system:netguard-controller' }),
        'NP011',
      ),
      [],
      'the controller may',
    );
    const squat = judge(loadOne('test/fixtures/adversarial/squat-default-deny.yaml'), {
      namespace: 'dev-x',
    });
    t.equal(
      squat.allowed,
      false,
      'an unlabelled policy squatting the name is denied too, even in observe',
    );
    t.same(
      findingsOf(squat, 'NP011').map((f) => f.path),
      ['metadata.name'],
    );
    const claimed = {
      ...baseline,
      metadata: { name: 'mine', labels: { 'app.kubernetes.io/managed-by': 'netguard' } },
    };
    t.equal(
      findingsOf(judge(claimed), 'NP011')[0]?.path,
      'metadata.labels["app.kubernetes.io/managed-by"]',
    );
  },
);
