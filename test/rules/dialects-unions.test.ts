import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parsePolicy } from '../../src/config/load.ts';
import { RULES_BY_ID } from '../../src/rules/registry.ts';
import t from 'tap';
import type { KubeObject } from '../../src/vocabulary.ts';
import { loadFixture } from '../helpers/reviews.ts';
import '../helpers/property.ts';
import { findingsOf, judge, rulesOf } from './judge.ts';

const [lowHalf, highHalf] = loadFixture('test/fixtures/dialects/union-ingress.yaml') as [
  KubeObject,
  KubeObject,
];
const [calicoLow, ciliumHigh] = loadFixture('test/fixtures/dialects/union-ports.yaml') as [
  KubeObject,
  KubeObject,
];

t.test(
  'NP012: a CiliumNetworkPolicy that completes the internet with a NetworkPolicy',
  async (t) => {
    const alone = judge(highHalf);
    t.same(findingsOf(alone, 'NP012'), [], 'half the internet alone is no finding');
    const completed = judge(highHalf, { others: [lowHalf] });
    t.equal(completed.allowed, false);
    const [finding] = findingsOf(completed, 'NP012');
    t.equal(finding?.path, 'spec.ingress');
    t.match(
      finding?.message,
      /^with NetworkPolicy low-half \(which selects these pods too\), these address peers reach the internet, so anyone can connect to pods that are not frontends\.$/,
    );
    const reverse = judge(lowHalf, { others: [highHalf] });
    t.equal(reverse.allowed, false, 'and the NetworkPolicy that completes it with the Cilium one');
    t.match(
      findingsOf(reverse, 'NP012')[0]?.message,
      /^with CiliumNetworkPolicy high-half \(which selects these pods too\), these ipBlocks reach the internet/,
    );
    const update = judge(highHalf, { others: [lowHalf], operation: 'UPDATE', oldObject: highHalf });
    t.equal(update.allowed, true, 'an UPDATE that changes nothing completes nothing new');
  },
);

t.test('NP008: every port split between a Calico and a Cilium policy', async (t) => {
  const alone = judge(ciliumHigh);
  t.same(findingsOf(alone, 'NP008'), [], 'ports 40001-65535 alone leave more than 1,024 closed');
  const completed = judge(ciliumHigh, { others: [calicoLow] });
  t.equal(completed.allowed, false);
  t.same(rulesOf(completed), ['NP008']);
  const [finding] = findingsOf(completed, 'NP008');
  t.equal(finding?.path, 'spec.ingress');
  t.match(
    finding?.message,
    /^with NetworkPolicy\.projectcalico\.org web-low-ports \(which selects these pods too\), this policy opens every TCP port \(fewer than 1,024 closed\) to spec\.ingress\[0\]\.fromEndpoints\[0\]/,
  );
  const calico = judge(calicoLow, { others: [ciliumHigh] });
  t.match(
    findingsOf(calico, 'NP008')[0]?.message,
    /^with CiliumNetworkPolicy web-high-ports \(which selects these pods too\)/,
  );
  const otherPods = judge(
    {
      ...ciliumHigh,
      spec: { ...(ciliumHigh['spec'] as object), endpointSelector: { matchLabels: { app: 'db' } } },
    },
    { others: [calicoLow] },
  );
  t.same(findingsOf(otherPods, 'NP008'), [], 'a policy for other pods adds up with nothing');
});

/** `from` on 8443 to the api backends, in each dialect. */
function ingressIn(
  dialect: 'kubernetes' | 'cilium' | 'calico',
  name: string,
  from: string,
): KubeObject {
  const metadata = { name, namespace: 'prod-x' };
  if (dialect === 'cilium')
    return {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata,
      spec: {
        endpointSelector: { matchLabels: { app: 'api', tier: 'backend' } },
        ingress: [{ fromCIDR: [from], toPorts: [{ ports: [{ port: '8443', protocol: 'TCP' }] }] }],
      },
    };
  if (dialect === 'calico')
    return {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata,
      spec: {
        selector: "app == 'api' && tier == 'backend'",
        types: ['Ingress'],
        ingress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { nets: [from] },
            destination: { ports: [8443] },
          },
        ],
      },
    };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata,
    spec: {
      podSelector: { matchLabels: { app: 'api', tier: 'backend' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ ipBlock: { cidr: from } }], ports: [{ protocol: 'TCP', port: 8443 }] }],
    },
  };
}

t.test(
  'property: a neighbour counts the same whichever dialect either policy is written in',
  async (t) => {
    const dialect = fc.constantFrom('kubernetes' as const, 'cilium' as const, 'calico' as const);
    fc.assert(
      fc.property(
        fc.constantFrom('52.0.0.0/9', '52.0.0.0/10', '10.0.0.0/8', '52.128.0.0/10'),
        dialect,
        dialect,
        (low, neighbourDialect, reviewedDialect) => {
          const decide = (reviewed: typeof reviewedDialect, neighbour: typeof neighbourDialect) =>
            judge(ingressIn(reviewed, 'high-half', '52.128.0.0/9'), {
              others: [ingressIn(neighbour, 'neighbour', low)],
            });
          const verdict = decide(reviewedDialect, neighbourDialect);
          const baseline = decide('kubernetes', 'kubernetes');
          const np012 = (decision: typeof verdict) => findingsOf(decision, 'NP012').length > 0;
          return np012(verdict) === np012(baseline) && verdict.allowed === baseline.allowed;
        },
      ),
    );
    const completes = judge(ingressIn('calico', 'high-half', '52.128.0.0/9'), {
      others: [ingressIn('cilium', 'neighbour', '52.0.0.0/9')],
    });
    t.equal(completes.allowed, false, 'the property covers a union that completes');
  },
);

t.test('a neighbour past NP013 limits is not read: it completes no union', async (t) => {
  const neighbour = {
    ...highHalf,
    metadata: { name: 'cilium-neighbour', namespace: 'prod-x' },
    spec: {
      ...(highHalf['spec'] as object),
      ingress: [
        {
          fromCIDR: ['52.0.0.0/10', '52.64.0.0/10'],
          toPorts: [{ ports: [{ port: '8443', protocol: 'TCP' }] }],
        },
      ],
    },
  };
  const reviewed = ingressIn('kubernetes', 'reviewed', '52.128.0.0/9');
  t.equal(judge(reviewed, { others: [neighbour] }).allowed, false, 'within the limits: counted');
  const policy = parsePolicy(
    readFileSync('policies/guardrails.yaml', 'utf8').replace(
      'clusterCIDRs:',
      'limits: {peers: 1}\n    clusterCIDRs:',
    ),
    'one-peer',
    RULES_BY_ID,
  );
  const skipped = judge(reviewed, { others: [neighbour], policy });
  t.same(findingsOf(skipped, 'NP012'), [], 'past the limit the neighbour is not compiled');
});
