import t from 'tap';
import type { KubeObject } from '../../src/vocabulary.ts';
import { findingsOf, judge } from './judge.ts';

/** A CiliumNetworkPolicy for `app: crawler` with these egress rules (DNS allowed first). */
function cilium(
  egress: unknown[],
  selector: Record<string, string> = { app: 'crawler' },
): KubeObject {
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: 'crawler-out', namespace: 'prod-x' },
    spec: {
      endpointSelector: { matchLabels: selector },
      egress: [
        {
          toEndpoints: [
            {
              matchLabels: {
                'k8s:io.kubernetes.pod.namespace': 'kube-system',
                'k8s-app': 'kube-dns',
              },
            },
          ],
          toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }] }],
        },
        ...egress,
      ],
    },
  };
}

const world = (entity = 'world', port = '443') => ({
  toEntities: [entity],
  toPorts: [{ ports: [{ port, protocol: 'TCP' }] }],
});
const partner = {
  toCIDR: ['160.79.104.0/24'],
  toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }],
};

const update = (object: KubeObject, oldObject: KubeObject) =>
  judge(object, { operation: 'UPDATE', oldObject });

t.test('an UPDATE of a Cilium policy is judged by meaning, not by field path', async (t) => {
  const old = cilium([world()]);
  const moved = update(cilium([partner, world()]), old);
  t.equal(moved.allowed, true, 'a finding-free rule in front moves the path, not the meaning');
  const [finding] = findingsOf(moved, 'NP004');
  t.equal(finding?.path, 'spec.egress[2].toEntities[0]');
  t.same(finding?.notes, ['pre-existing: the object already had this before the update']);

  const spelled = update(
    cilium([{ toCIDR: ['0.0.0.0/0'], toPorts: world().toPorts }, world('world-ipv6')]),
    old,
  );
  t.equal(spelled.allowed, true, 'the same internet, spelled as CIDRs: still pre-existing');

  const narrowed = update(cilium([world('world-ipv4')]), old);
  t.equal(narrowed.allowed, true, 'IPv4 only is inside the old internet');

  const ports = update(cilium([world('world', '0')]), old);
  t.equal(ports.allowed, false, 'every port instead of 443 widens the finding');
  t.match(
    ports.message,
    /NP004 world-egress at spec\.egress\[1\]\.toEntities\[0\]: entity world lets these pods reach any address on the internet/,
  );

  const pods = update(cilium([world()], {}), old);
  t.equal(pods.allowed, false, 'every pod of the namespace instead of app: crawler widens it');

  const wider = update(cilium([world()]), cilium([world('world-ipv4')]));
  t.equal(wider.allowed, false, 'world where world-ipv4 was: IPv6 is new');
  t.match(wider.message, /NP004/);
});

/** A Calico policy with one egress Allow to `nets` on `ports`. */
function calico(nets: string[], ports: number[]): KubeObject {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name: 'to-partner', namespace: 'prod-x' },
    spec: {
      selector: "app == 'api'",
      types: ['Ingress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', source: { nets }, destination: { ports } }],
    },
  };
}

t.test(
  'an UPDATE of a Calico policy: NP012 pre-existing only while no address or port is added',
  async (t) => {
    const old = calico(['0.0.0.0/0'], [8443]);
    const same = update(calico(['0.0.0.0/1', '128.0.0.0/1'], [8443]), old);
    t.equal(same.allowed, true, 'the same addresses split in two');
    t.same(
      findingsOf(same, 'NP012').map((f) => f.notes[0]),
      [
        'pre-existing: the object already had this before the update',
        'pre-existing: the object already had this before the update',
      ],
    );
    const port = update(calico(['0.0.0.0/0'], [8443, 22]), old);
    t.equal(port.allowed, false, 'port 22 is new');
    t.match(
      port.message,
      /NP012 world-ingress at spec\.ingress\[0\]\.source\.nets\[0\]: 0\.0\.0\.0\/0 lets the internet connect to pods that are not frontends/,
    );
  },
);
