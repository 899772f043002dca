import t from 'tap';
import { countDialectPolicy } from '../../src/model/dialects/size.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { findingsOf, judge, NAMESPACE_OF, rulesOf } from './judge.ts';

/** A CiliumNetworkPolicy whose one egress rule names `count` /32 destinations to the internet. */
function ciliumManyPeers(count: number): KubeObject {
  const toCIDR: string[] = [];
  for (let i = 0; i < count; i += 1) toCIDR.push(`52.${(i >> 8) & 255}.${i & 255}.1/32`);
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: 'partners', namespace: 'prod-x' },
    spec: {
      endpointSelector: { matchLabels: { app: 'api' } },
      egress: [{ toCIDR, toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] }],
    },
  };
}

/** A Calico policy with `count` ingress rules from one /32 each. */
function calicoManyRules(count: number): KubeObject {
  const ingress: unknown[] = [];
  for (let i = 0; i < count; i += 1)
    ingress.push({
      action: 'Allow',
      protocol: 'TCP',
      source: { nets: [`52.0.${(i >> 8) & 255}.${i & 255}/32`] },
      destination: { ports: [8443] },
    });
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name: 'partners', namespace: 'prod-x' },
    spec: { selector: "app == 'api'", types: ['Ingress'], ingress },
  };
}

t.test(
  'NP013 counts dialect policies: over a limit, NP013 alone and nothing compiled',
  async (t) => {
    for (const [mode, level, allowed] of [
      ['observe', 'warn', true],
      ['enforce', 'deny', false],
    ] as const) {
      const over = judge(ciliumManyPeers(1001), { namespace: NAMESPACE_OF[mode] });
      t.equal(over.allowed, allowed, `${mode}: the verdict follows NP013's level`);
      t.same(rulesOf(over), ['NP013'], `${mode}: the 1,001 unapproved /32s are not judged further`);
      const [finding] = findingsOf(over, 'NP013');
      t.equal(finding?.level, level);
      t.equal(finding?.path, 'spec');
      t.match(finding?.message, /this policy has 1001 peers, more than the limit of 1000/);
    }
    const calico = judge(calicoManyRules(1001));
    t.same(rulesOf(calico), ['NP013']);
    t.match(findingsOf(calico, 'NP013')[0]?.message, /1001 rules, more than the limit of 1000/);

    const under = judge(ciliumManyPeers(3));
    t.same(
      rulesOf(under),
      ['NP001', 'NP004'],
      'under the limit it is compiled and judged as before',
    );
  },
);

t.test('NP013 on an UPDATE of a dialect policy that grows no count is pre-existing', async (t) => {
  const old = ciliumManyPeers(1001);
  const same = judge(ciliumManyPeers(1001), { operation: 'UPDATE', oldObject: old });
  t.equal(same.allowed, true);
  t.match(findingsOf(same, 'NP013')[0]?.notes, ['pre-existing']);
  const grown = judge(ciliumManyPeers(1002), { operation: 'UPDATE', oldObject: old });
  t.equal(grown.allowed, false, 'one more peer: a new finding');
});

t.test(
  'dialect counts: Cilium specs, FQDN patterns, deny rules; ClusterNetworkPolicy networks',
  async (t) => {
    t.same(
      countDialectPolicy('CiliumNetworkPolicy', {
        specs: [
          {
            endpointSelector: {
              matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }],
            },
            egress: [
              {
                toFQDNs: [{ matchName: 'a.example.com' }, { matchPattern: '*.example.com' }],
                toPorts: [{ ports: [{ port: '443' }, { port: '80' }] }],
              },
            ],
            egressDeny: [{ toCIDRSet: [{ cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] }] }],
          },
        ],
      }),
      { rules: 2, peers: 3, ports: 2, values: 1 + 2 + 2 + 1 },
    );
    t.same(
      countDialectPolicy('ClusterNetworkPolicy', {
        spec: {
          egress: [
            {
              to: [{ networks: ['1.0.0.0/8', '2.0.0.0/8'] }, { namespaces: {} }],
              protocols: [{ tcp: { destinationPort: { number: 443 } } }],
            },
          ],
        },
      }),
      { rules: 1, peers: 2, ports: 1, values: 2 },
    );
    t.equal(countDialectPolicy('Pod', {}), undefined, 'no dialect policy: not counted here');
    t.same(
      countDialectPolicy('GlobalNetworkPolicy', {
        spec: { egress: 'hostile', ingress: [null, 7] },
      }),
      { rules: 2, peers: 0, ports: 0, values: 0 },
      'hostile shapes count what is there and never throw',
    );
  },
);
