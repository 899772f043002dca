import t from 'tap';
import { meaningOf } from '../../src/model/compile-network-policy.ts';
import { parsedPolicy } from '../../src/model/network-policy.ts';
import { parsePolicy } from '../../src/config/load.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';
import { findingsOf, judge, NAMESPACE_OF, rulesOf } from './judge.ts';
import { readFileSync } from 'node:fs';
import { RULES_BY_ID } from '../../src/rules/registry.ts';

/** An ingress policy to a backend with `count` /32 peers, one port. */
function manyPeers(count: number, namespace = 'prod-x'): KubeObject {
  const from: unknown[] = [];
  for (let i = 0; i < count; i += 1)
    from.push({ ipBlock: { cidr: `52.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32` } });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'partners', namespace },
    spec: {
      podSelector: { matchLabels: { app: 'api', tier: 'backend' } },
      policyTypes: ['Ingress'],
      ingress: [{ from, ports: [{ protocol: 'TCP', port: 8443 }] }],
    },
  };
}

t.test(
  'over the peer limit: NP013 alone, denied in constrain and enforce, warned in observe',
  async (t) => {
    for (const [mode, level, allowed] of [
      ['observe', 'warn', true],
      ['constrain', 'deny', false],
      ['enforce', 'deny', false],
    ] as const) {
      const decision = judge(manyPeers(1001), { namespace: NAMESPACE_OF[mode] });
      t.equal(decision.allowed, allowed, mode);
      t.same(rulesOf(decision), ['NP013'], `${mode}: not compiled, so no other rule judges it`);
      const [finding] = findingsOf(decision, 'NP013');
      t.equal(finding?.level, level);
      t.equal(finding?.path, 'spec');
      t.equal(
        finding?.message,
        'this policy has 1001 peers, more than the limit of 1000, so netguard does not judge it further.',
      );
    }
    t.same(rulesOf(judge(manyPeers(1000))), [], 'at the limit: judged as usual');
  },
);

t.test('limits come from networkPolicies.limits', async (t) => {
  const text = readFileSync('policies/guardrails.yaml', 'utf8').replace(
    'clusterCIDRs:',
    'limits: {peers: 5000}\n    clusterCIDRs:',
  );
  const policy = parsePolicy(text, 'custom', RULES_BY_ID);
  t.same(rulesOf(judge(manyPeers(1001), { policy })), []);
  t.same(rulesOf(judge(manyPeers(5001), { policy })), ['NP013']);
});

t.test(
  'an UPDATE that grows no count is pre-existing; one that grows a count is new',
  async (t) => {
    const old = manyPeers(1200);
    const same = findingsOf(
      judge(manyPeers(1200), { operation: 'UPDATE', oldObject: old }),
      'NP013',
    );
    t.same(
      same.map((f) => f.level),
      ['warn'],
    );
    t.match(same[0]?.notes, ['pre-existing: the object already had this before the update']);
    const grown = findingsOf(
      judge(manyPeers(1201), { operation: 'UPDATE', oldObject: old }),
      'NP013',
    );
    t.same(
      grown.map((f) => [f.level, f.notes]),
      [['deny', []]],
    );
  },
);

t.test(
  'over real TLS: HTTP 200 and a denial naming the count, never a 500 or a stack overflow',
  async (t) => {
    const webhook = await startWebhook(t);
    // Within the review bound (100,000 JSON values): NP013 counts the peers.
    const over = await webhook.post('/validate', reviewFor(manyPeers(20_000, 'prod-payments')));
    t.equal(over.status, 200);
    t.equal(over.json().response.allowed, false);
    t.match(
      over.json().response.status.message,
      'NP013 size-bound at spec: this policy has 20000 peers, more than the limit of 1000',
    );
    // 125,000 peers (once HTTP 500 from a spread): past the review bound, denied before parsing.
    const huge = await webhook.post('/validate', reviewFor(manyPeers(125_000, 'prod-payments')));
    t.equal(huge.status, 200);
    t.equal(huge.json().response.allowed, false);
    t.match(
      huge.json().response.status.message,
      /^netguard review bound at request\.object: this NetworkPolicy has more than 100,000 JSON values/,
    );
  },
);

t.test(
  'a cached policy over the bound counts as every peer on every port, uncompiled',
  async (t) => {
    const policy = parsedPolicy(manyPeers(125_000));
    t.ok(policy, 'kept in the cache');
    const meaning = policy === undefined ? undefined : meaningOf(policy);
    t.same(
      meaning?.ingress?.grants.map((grant) => [
        grant.peers.map((peer) => peer.kind),
        grant.ports.all,
      ]),
      [[['any'], true]],
    );
    t.equal(meaning?.egress, undefined, 'only the directions it names');
    t.same(
      meaning?.subject.pods.requirements.map((r) => r.key),
      ['app', 'tier'],
    );
    t.same(
      rulesOf(judge(manyPeers(10), { others: [manyPeers(125_000)] })),
      [],
      'a small neighbour is judged as usual',
    );
  },
);
