import t from 'tap';
import { worldFromObjects } from '../../src/reach/workloads.ts';
import { loadOne } from '../helpers/reviews.ts';

t.test(
  'reach reads NetworkPolicies by group and version: a Calico one is not modelled as one',
  async (t) => {
    const calico = loadOne('test/fixtures/dialects/calico-deny-world.yaml');
    t.same(
      worldFromObjects([calico]).policyObjects,
      [],
      'projectcalico.org/v3 is no networking.k8s.io policy',
    );
    const kube = { ...calico, apiVersion: 'networking.k8s.io/v1', spec: { podSelector: {} } };
    t.equal(
      worldFromObjects([kube]).policyObjects.length,
      1,
      'the control: networking.k8s.io/v1 is read',
    );
  },
);
