import t from 'tap';
import { loadOne } from '../helpers/reviews.ts';
import { findingsOf, judge, NAMESPACE_OF, RULE_FIXTURES } from './judge.ts';

const fixture = (name: string) => loadOne(`${RULE_FIXTURES}/${name}`);
const CONTROLLER = 'system:serviceaccount:netguard-system:netguard-controller';

t.test('a user deleting a baseline policy is denied in every mode, observe included', async (t) => {
  for (const mode of ['observe', 'constrain', 'enforce'] as const) {
    const namespace = NAMESPACE_OF[mode];
    const decision = judge(fixture('np011-baseline.yaml'), { namespace, operation: 'DELETE', oldObject: fixture('np011-baseline.yaml') });
    t.equal(decision.allowed, false, mode);
    const [finding] = findingsOf(decision, 'NP011');
    t.equal(finding?.level, 'deny');
    t.equal(finding?.path, 'metadata.labels["app.kubernetes.io/managed-by"]');
    t.equal(finding?.message, `this is a baseline NetworkPolicy managed by netguard, and only netguard's controller (${CONTROLLER}) may delete it; deleting it lifts the namespace's isolation.`);
    t.equal(finding?.fix, `To change the baseline, edit the namespace annotations instead (kubectl annotate namespace ${namespace} netguard.dev/default-deny=Ingress,Egress --overwrite, or netguard.dev/allow-dns); the controller then updates this policy.`);
  }
});

t.test('a user weakening a baseline policy is denied at spec', async (t) => {
  const decision = judge(fixture('np011-baseline-weakened.yaml'), { namespace: 'dev-x', operation: 'UPDATE', oldObject: fixture('np011-baseline.yaml') });
  t.equal(decision.allowed, false);
  const [finding] = findingsOf(decision, 'NP011');
  t.equal(finding?.path, 'spec');
  t.match(finding?.message, 'may change its spec; the controller would revert the edit as drift.');
});

t.test('removing the managed-by label does not escape the rule', async (t) => {
  const decision = judge(fixture('np011-baseline-unlabelled.yaml'), { operation: 'UPDATE', oldObject: fixture('np011-baseline.yaml') });
  t.equal(findingsOf(decision, 'NP011')[0]?.path, 'metadata.labels');
  t.equal(decision.allowed, false);
});

t.test("the controller's service account may change and delete it", async (t) => {
  const old = fixture('np011-baseline.yaml');
  t.same(findingsOf(judge(fixture('np011-baseline-weakened.yaml'), { operation: 'UPDATE', oldObject: old, username: CONTROLLER }), 'NP011'), []);
  const deleted = judge(old, { operation: 'DELETE', oldObject: old, username: CONTROLLER });
  t.same(deleted.findings, []);
  t.equal(deleted.allowed, true);
});

t.test('unmanaged policies, and updates that change nothing guarded, pass', async (t) => {
  const unmanaged = fixture('np011-unmanaged.yaml');
  t.equal(judge(unmanaged, { operation: 'DELETE', oldObject: unmanaged }).allowed, true);
  const old = fixture('np011-baseline.yaml');
  const touched = { ...fixture('np011-baseline.yaml'), metadata: { ...(old['metadata'] as object), resourceVersion: '42' } };
  t.same(findingsOf(judge(touched, { operation: 'UPDATE', oldObject: old }), 'NP011'), []);
});

t.test('NP011 does not judge CREATE', async (t) => {
  t.same(findingsOf(judge(fixture('np011-baseline.yaml')), 'NP011'), []);
});
