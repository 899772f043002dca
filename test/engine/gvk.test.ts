import t from 'tap';
import { validate } from '../../src/engine/evaluate.ts';
import { judgedInput } from '../../src/engine/target.ts';
import type { AdmissionInput } from '../../src/engine/types.ts';
import { judgedKindOf } from '../../src/model/dialects/gvk.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { contextFor } from '../helpers/context.ts';
import { loadOne } from '../helpers/reviews.ts';

const input = (object: KubeObject, gvk: Partial<AdmissionInput> = {}): AdmissionInput => ({
  uid: 'u',
  kind: String(object['kind']),
  operation: 'CREATE',
  namespace: 'prod-shop',
  name: 'no-internet',
  object,
  oldObject: undefined,
  user: { username: 'alice', groups: [] },
  dryRun: false,
  ...gvk,
});

t.test('the judged kind comes from group, version and kind, never kind alone', async (t) => {
  t.equal(
    judgedKindOf({ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' }),
    'NetworkPolicy',
  );
  t.equal(
    judgedKindOf({ group: 'projectcalico.org', version: 'v3', kind: 'NetworkPolicy' }),
    'NetworkPolicy.projectcalico.org',
  );
  t.equal(
    judgedKindOf({ group: 'crd.projectcalico.org', version: 'v1', kind: 'NetworkPolicy' }),
    'NetworkPolicy.projectcalico.org',
  );
  t.equal(
    judgedKindOf({ group: 'example.com', version: 'v1', kind: 'NetworkPolicy' }),
    'unjudged:NetworkPolicy.v1.example.com',
    'an unknown group is no rule kind',
  );
  t.equal(
    judgedKindOf({ group: 'networking.k8s.io', version: 'v1beta9', kind: 'NetworkPolicy' }),
    'unjudged:NetworkPolicy.v1beta9.networking.k8s.io',
    'an unknown version neither',
  );
  t.equal(
    judgedKindOf({ group: 'projectcalico.org', version: 'v3', kind: 'StagedNetworkPolicy' }),
    'unjudged:StagedNetworkPolicy.v3.projectcalico.org',
    'Staged kinds enforce nothing and are not judged',
  );
  t.equal(judgedKindOf({ group: 'apps', version: 'v1', kind: 'Pod' }), 'unjudged:Pod.v1.apps');
  t.equal(
    judgedKindOf({ group: '', version: 'v1', kind: 'constructor' }),
    'unjudged:constructor.v1.',
    'prototype keys are no kinds',
  );
});

t.test(
  'the request names the group and version; the object is read only when it does not',
  async (t) => {
    const calico = loadOne('test/fixtures/dialects/calico-deny-world.yaml');
    t.equal(judgedInput(input(calico)).kind, 'NetworkPolicy.projectcalico.org');
    t.equal(
      judgedInput(input(calico, { group: 'projectcalico.org', version: 'v3' })).kind,
      'NetworkPolicy.projectcalico.org',
    );
    // The request's own GVK wins over an apiVersion written into the object.
    const spoofed = { ...calico, apiVersion: 'networking.k8s.io/v1' };
    t.equal(
      judgedInput(input(spoofed, { group: 'projectcalico.org', version: 'v3' })).kind,
      'NetworkPolicy.projectcalico.org',
    );
  },
);

t.test('a Calico policy whose only egress is a Deny to 0.0.0.0/0 is not NP002', async (t) => {
  const calico = loadOne('test/fixtures/dialects/calico-deny-world.yaml');
  const decision = validate(
    input(calico, { group: 'projectcalico.org', version: 'v3' }),
    contextFor(),
  );
  t.equal(decision.allowed, true);
  t.same(
    decision.findings.filter((finding) => finding.rule === 'NP002'),
    [],
    'no allow-all finding',
  );
  t.equal(decision.kind, 'NetworkPolicy.projectcalico.org');
  // The control: the same spelling under networking.k8s.io is a Kubernetes policy and is judged.
  const kube = validate(
    input(
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'x', namespace: 'prod-shop' },
        spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] },
      },
      { group: 'networking.k8s.io', version: 'v1' },
    ),
    contextFor(),
  );
  t.equal(kube.allowed, false);
  t.ok(kube.findings.some((finding) => finding.rule === 'NP002'));
});
