import t from 'tap';
import { loadOne } from '../helpers/reviews.ts';
import { findingsOf, judge } from '../rules/judge.ts';

const ADVERSARIAL = 'test/fixtures/adversarial';

t.test(
  'forged owner: a Pod naming a ReplicaSet that does not exist is judged as a bare Pod',
  async (t) => {
    const pod = loadOne(`${ADVERSARIAL}/forged-owner-pod.yaml`);
    const forged = judge(pod);
    t.equal(forged.allowed, false, 'denied in production');
    t.same(
      findingsOf(forged, 'POD003').map((f) => [f.level, f.notes]),
      [['deny', []]],
      'no "judged at its ReplicaSet" downgrade',
    );
    t.match(forged.message, 'POD001 required-labels');

    const replicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-5d8f7c9b6', uid: 'another-uid' },
    };
    t.equal(
      judge(pod, { others: [replicaSet] }).allowed,
      false,
      'an owner of that name with another uid proves nothing',
    );

    const real = {
      ...replicaSet,
      metadata: { ...replicaSet.metadata, uid: '0b5c2f7e-0000-4000-8000-000000000001' },
    };
    t.equal(
      judge(pod, { others: [real] }).allowed,
      false,
      'even an owner that exists with that uid proves nothing: trust is the identity',
    );

    const byController = judge(pod, {
      username: 'system:serviceaccount:kube-system:replicaset-controller',
    });
    t.equal(byController.allowed, true, 'the ReplicaSet controller creating its Pod is trusted');
    t.same(findingsOf(byController, 'POD003')[0]?.notes, [
      'judged at its ReplicaSet web-5d8f7c9b6',
    ]);
    t.equal(judge(pod, { username: 'system:kube-controller-manager' }).allowed, true);
    t.equal(
      judge(pod, { username: 'system:serviceaccount:prod-x:default' }).allowed,
      false,
      'a tenant service account is not a controller',
    );
  },
);

t.test('widening counted as pre-existing: no longer', async (t) => {
  const old = loadOne(`${ADVERSARIAL}/widened-update-old.yaml`);
  const widened = judge(loadOne(`${ADVERSARIAL}/widened-update-every-pod-every-port.yaml`), {
    operation: 'UPDATE',
    oldObject: old,
  });
  t.equal(widened.allowed, false, 'every pod on every port is a new violation');
  t.same(
    findingsOf(widened, 'NP004').map((f) => [f.level, f.notes]),
    [['deny', []]],
  );

  const podsOnly = loadOne(`${ADVERSARIAL}/widened-update-old.yaml`);
  (podsOnly['spec'] as Record<string, unknown>)['podSelector'] = {};
  t.equal(
    judge(podsOnly, { operation: 'UPDATE', oldObject: old }).allowed,
    false,
    'a broader podSelector alone widens it',
  );

  const portsOnly = structuredClone(old);
  const egress = (portsOnly['spec'] as { egress: Record<string, unknown>[] }).egress;
  if (egress[0] !== undefined)
    egress[0]['ports'] = [
      { protocol: 'TCP', port: 443 },
      { protocol: 'TCP', port: 8443 },
    ];
  t.equal(
    judge(portsOnly, { operation: 'UPDATE', oldObject: old }).allowed,
    false,
    'a broader port set alone widens it',
  );

  const narrowed = judge(loadOne(`${ADVERSARIAL}/narrowed-update.yaml`), {
    operation: 'UPDATE',
    oldObject: old,
  });
  t.equal(narrowed.allowed, true, 'an incident fix that narrows the policy is not blocked');
  t.same(findingsOf(narrowed, 'NP004')[0]?.notes, [
    'pre-existing: the object already had this before the update',
  ]);
});
