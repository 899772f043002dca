import fc from 'fast-check';
import t from 'tap';
import type { AdmissionInput, Decision } from '../../src/engine/types.ts';
import { validate } from '../../src/engine/evaluate.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { contextFor } from '../helpers/context.ts';
import { loadFixture, loadOne } from '../helpers/reviews.ts';
import '../helpers/property.ts';
import {
  intersection,
  ipBlockAddresses,
  isEmpty,
  isSubset,
  NO_ADDRESSES,
} from '../../src/semantics/addresses.ts';
import { defaultLevelsPolicy, findingsOf, rulesOf } from './judge.ts';

/** Judges `object` (a CREATE by a tenant) with `cluster` as what the cluster holds. */
function judgeWith(object: KubeObject, cluster: readonly KubeObject[] = []): Decision {
  const metadata = object['metadata'] as Record<string, string>;
  const input: AdmissionInput = {
    uid: 'order',
    kind: String(object['kind']),
    operation: 'CREATE',
    namespace: metadata['namespace'] ?? '',
    name: metadata['name'] ?? '',
    object,
    oldObject: undefined,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    dryRun: false,
  };
  return validate(input, contextFor({ policy: defaultLevelsPolicy(), objects: cluster }));
}

/** A Calico egress rule list: an optional Deny, then the Allow to `allow` on 443. */
function calico(rules: unknown[], extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name: 'api-out', namespace: 'prod-x' },
    spec: { selector: "app == 'api'", types: ['Egress'], egress: rules, ...extra },
  };
}

const dns = loadOne('test/fixtures/dialects/calico-deny-first.yaml');
const dnsRules = (dns['spec'] as { egress: unknown[] }).egress.slice(0, 2);
const allowWorld = {
  action: 'Allow',
  protocol: 'TCP',
  destination: { nets: ['0.0.0.0/0'], ports: [443] },
};

t.test(
  'a Deny before an Allow in the same policy: the Allow opens nothing it denies',
  async (t) => {
    const first = judgeWith(dns);
    t.equal(first.allowed, true, 'the Deny comes first: no address is opened');
    t.same(rulesOf(first), []);

    const after = judgeWith(
      calico([...dnsRules, allowWorld, { action: 'Deny', destination: { nets: ['0.0.0.0/0'] } }]),
    );
    t.equal(after.allowed, false, 'a Deny after the Allow cancels nothing');
    t.same(
      findingsOf(after, 'NP004').map((f) => f.path),
      ['spec.egress[2].destination.nets[0]'],
    );

    const partial = judgeWith(
      calico([...dnsRules, { action: 'Deny', destination: { nets: ['0.0.0.0/1'] } }, allowWorld]),
    );
    t.equal(partial.allowed, false, 'half denied: the other half is still the internet');
    t.match(
      findingsOf(partial, 'NP004')[0]?.message,
      /^0\.0\.0\.0\/0 \(less what spec\.egress\[2\] denies\) lets these pods reach/,
    );

    const otherPort = judgeWith(
      calico([
        ...dnsRules,
        { action: 'Deny', protocol: 'TCP', destination: { nets: ['0.0.0.0/0'], ports: [80] } },
        allowWorld,
      ]),
    );
    t.equal(otherPort.allowed, false, 'a Deny on port 80 does not cover the Allow on 443');

    const narrowedBySelector = judgeWith(
      calico([
        ...dnsRules,
        {
          action: 'Deny',
          source: { selector: "role == 'x'" },
          destination: { nets: ['0.0.0.0/0'] },
        },
        allowWorld,
      ]),
    );
    t.equal(narrowedBySelector.allowed, false, 'a Deny for some pods only is not subtracted');

    const pass = judgeWith(
      calico([...dnsRules, { action: 'Pass', destination: { nets: ['0.0.0.0/0'] } }, allowWorld]),
    );
    t.equal(pass.allowed, false, 'Pass is never subtracted (a later tier may allow)');

    const icmp = judgeWith(
      calico([
        ...dnsRules,
        { action: 'Deny', protocol: 'ICMP', destination: { nets: ['0.0.0.0/0'] } },
        allowWorld,
      ]),
    );
    t.equal(icmp.allowed, false, 'an ICMP Deny does not cover TCP 443');

    const anyAllow = judgeWith(calico([...dnsRules, { action: 'Deny' }, { action: 'Allow' }]));
    t.same(
      rulesOf(anyAllow),
      [],
      'Deny everything, then Allow everything: the Allow opens nothing',
    );
  },
);

t.test('order across policies of one tier', async (t) => {
  const [global, namespaced] = loadFixture('test/fixtures/dialects/calico-order.yaml') as [
    KubeObject,
    KubeObject,
  ];
  const alone = judgeWith(namespaced);
  t.equal(alone.allowed, false, 'without the earlier Deny the Allow opens the internet');
  t.same(
    findingsOf(alone, 'NP004').map((f) => f.path),
    ['spec.egress[0].destination.nets[0]'],
  );

  t.equal(judgeWith(namespaced, [global]).allowed, true, 'order 10 denies before order 100 allows');

  const later = { ...global, spec: { ...(global['spec'] as object), order: 1000 } };
  t.equal(judgeWith(namespaced, [later]).allowed, false, 'a Deny evaluated later cancels nothing');
  const unordered = { ...global, spec: { ...(global['spec'] as object), order: undefined } };
  t.equal(judgeWith(namespaced, [unordered]).allowed, false, 'no order: evaluated last');
  const otherTier = { ...global, spec: { ...(global['spec'] as object), tier: 'security' } };
  t.equal(
    judgeWith(namespaced, [otherTier]).allowed,
    false,
    'another tier: tier order is not read, so nothing is subtracted',
  );
  const fewerPods = { ...global, spec: { ...(global['spec'] as object), selector: "app == 'db'" } };
  t.equal(judgeWith(namespaced, [fewerPods]).allowed, false, 'a Deny for other pods');
  const unreadable = {
    ...global,
    spec: { ...(global['spec'] as object), selector: "app == 'api' || app == 'db'" },
  };
  t.equal(
    judgeWith(namespaced, [unreadable]).allowed,
    false,
    'a selector netguard cannot read exactly',
  );
  const tenantDeny = {
    ...global,
    kind: 'NetworkPolicy',
    metadata: { name: 'early-deny', namespace: 'prod-x' },
  };
  t.equal(
    judgeWith(namespaced, [tenantDeny]).allowed,
    false,
    'a namespaced earlier Deny is not subtracted: its tenant could delete it, and nothing would judge what that uncovers',
  );
  const itself = {
    ...namespaced,
    metadata: { name: 'default.api-out', namespace: 'prod-x' },
    spec: {
      ...(namespaced['spec'] as object),
      order: 10,
      egress: [{ action: 'Deny', destination: { nets: ['0.0.0.0/0', '::/0'] } }],
    },
  };
  t.equal(
    judgeWith(namespaced, [itself]).allowed,
    false,
    'its own stored copy (tier.name, as crd.projectcalico.org keeps it) is not an earlier policy',
  );
});

/** The same traffic as a NetworkPolicy: `allowed` less `denied`, written with ipBlock and except. */
function networkPolicyLeaving(allowed: string, denied: string): KubeObject {
  const a = ipBlockAddresses(allowed, []) ?? NO_ADDRESSES;
  const d = ipBlockAddresses(denied, []) ?? NO_ADDRESSES;
  const block = isSubset(a, d)
    ? []
    : isEmpty(intersection(a, d))
      ? [{ cidr: allowed }]
      : [{ cidr: allowed, except: [denied] }];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'api-out', namespace: 'prod-x' },
    spec: {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        ...block.map((ipBlock) => ({ to: [{ ipBlock }], ports: [{ protocol: 'TCP', port: 443 }] })),
      ],
    },
  };
}

t.test(
  'property: a Calico Deny first gets the verdict of a NetworkPolicy that never allowed those addresses',
  async (t) => {
    const nets = fc.constantFrom(
      '0.0.0.0/0',
      '0.0.0.0/1',
      '128.0.0.0/1',
      '8.0.0.0/8',
      '8.0.0.0/9',
      '160.79.104.0/24',
    );
    fc.assert(
      fc.property(nets, nets, (allowed, denied) => {
        const calicoDecision = judgeWith(
          calico([
            ...dnsRules,
            { action: 'Deny', destination: { nets: [denied] } },
            { action: 'Allow', protocol: 'TCP', destination: { nets: [allowed], ports: [443] } },
          ]),
        );
        const kubernetes = judgeWith(networkPolicyLeaving(allowed, denied));
        const np004 = (decision: Decision) => findingsOf(decision, 'NP004').length > 0;
        return (
          np004(calicoDecision) === np004(kubernetes) &&
          calicoDecision.allowed === kubernetes.allowed
        );
      }),
    );
    t.pass('equal verdicts');
  },
);
