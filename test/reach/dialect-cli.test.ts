import t from 'tap';
import { parseReachOptions, runReach } from '../../src/cli/reach.ts';

// `netguard reach` over manifests holding other dialects: Cilium answers name the Cilium policy;
// a Calico policy is never silently ignored: text and JSON say it is not modelled, and for whom.
const SHOP = 'test/fixtures/reach/shop';
const CALICO = 'test/fixtures/dialects/calico-deny-world.yaml';
const CILIUM = 'test/fixtures/reach/dialects/shop-cilium.yaml';

async function reach(files: string[], flags: Record<string, unknown>): Promise<string> {
  let out = '';
  const code = await runReach(
    parseReachOptions({
      filename: [`${SHOP}/cluster.yaml`, `${SHOP}/policies-today.yaml`, ...files],
      protocol: 'TCP',
      asEnforced: false,
      output: 'text',
      config: 'policies/guardrails.yaml',
      ...flags,
    }),
    { stdout: (text) => (out += text), stdin: () => '' },
  );
  t.equal(code, 0, 'exit 0');
  return out;
}

t.test('a Calico policy selecting an end of the question is named as not modelled', async (t) => {
  const answer = JSON.parse(
    await reach([CALICO], {
      from: 'prod-shop/api',
      to: 'prod-payments/payments',
      port: '8443',
      output: 'json',
    }),
  );
  t.equal(answer.allowed, true, 'reach answers from what it models (nothing isolates api egress)');
  t.same(answer.notModelled, [
    {
      policy: 'NetworkPolicy.projectcalico.org prod-shop/no-internet',
      reason:
        'reach does not model Calico policies (projectcalico.org/v3); answers for the pods it selects may be wrong',
      selects: ['prod-shop/api'],
    },
  ]);
  const text = await reach([CALICO], {
    from: 'prod-shop/api',
    to: 'prod-payments/payments',
    port: '8443',
  });
  t.match(
    text,
    /NOT MODELLED: NetworkPolicy\.projectcalico\.org prod-shop\/no-internet: reach does not model Calico policies .* may be wrong \(selects prod-shop\/api\)/,
  );
  const unrelated = JSON.parse(
    await reach([CALICO], {
      from: 'prod-shop/frontend',
      to: 'prod-payments/payments',
      port: '8443',
      output: 'json',
    }),
  );
  t.notOk('notModelled' in unrelated, 'no note where the Calico policy selects neither end');
});

t.test('the whole picture lists every policy it does not model, in text and JSON', async (t) => {
  const report = JSON.parse(await reach([CALICO], { output: 'json' }));
  t.same(
    report.notModelled.map((n: { policy: string; selects: string[] }) => [n.policy, n.selects]),
    [['NetworkPolicy.projectcalico.org prod-shop/no-internet', ['prod-shop/api']]],
  );
  t.match(
    await reach([CALICO], {}),
    /NOT MODELLED: NetworkPolicy\.projectcalico\.org prod-shop\/no-internet/,
  );
  t.match(
    await reach([CALICO], { output: 'dot' }),
    /\n {2}\/\/ NOT MODELLED: NetworkPolicy\.projectcalico\.org prod-shop\/no-internet: .*\n\}\n$/,
    'dot: a comment',
  );
  t.match(
    await reach([CALICO], { output: 'mermaid' }),
    /\n {2}%% NOT MODELLED: NetworkPolicy\.projectcalico\.org prod-shop\/no-internet: .*\n$/,
    'mermaid: a comment',
  );
  const plain = JSON.parse(await reach([], { output: 'json' }));
  t.same(plain.notModelled, [], 'nothing to say without other dialects');
});

t.test('a CiliumNetworkPolicy decides, and its FQDN rule is named as unresolved', async (t) => {
  const ask = async (to: string, port: string) =>
    JSON.parse(await reach([CILIUM], { from: 'prod-shop/frontend', to, port, output: 'json' }));
  const api = await ask('prod-shop/api', '8443');
  t.same(api.egress, { allowed: true, policies: ['CiliumNetworkPolicy/frontend-out'] });
  t.equal(api.allowed, true);
  const metrics = await ask('prod-shop/api', '9100');
  t.same(metrics.egress, { allowed: false, policies: ['CiliumNetworkPolicy/frontend-out'] });
  const world = await ask('8.8.8.8', '443');
  t.equal(world.allowed, true, 'toEntities world on 443');
  t.equal((await ask('8.8.8.8', '80')).allowed, false, 'not on 80');
  t.match(
    world.notModelled?.[0]?.reason ?? '',
    /spec\.egress\[2\]\.toFQDNs\[0\] \(DNS names api\.stripe\.com\)/,
  );
});
