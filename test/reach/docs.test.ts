import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { parseAdviseOptions, runAdvise } from '../../src/cli/advise.ts';
import { parseReachOptions, runReach } from '../../src/cli/reach.ts';

// docs/observe.md shows real output of the shop fixture; this keeps it from going stale.
const SHOP = 'test/fixtures/reach/shop';
const doc = readFileSync('docs/observe.md', 'utf8');

async function reach(filename: string[], flags: Record<string, unknown>): Promise<string> {
  let out = '';
  const options = parseReachOptions({
    filename,
    protocol: 'TCP',
    asEnforced: false,
    output: 'text',
    config: 'policies/guardrails.yaml',
    ...flags,
  });
  await runReach(options, { stdout: (text) => (out += text), stdin: () => '' });
  return out;
}

t.test('the pictures in docs/observe.md are what reach prints for the shop', async (t) => {
  const today = [`${SHOP}/cluster.yaml`, `${SHOP}/policies-today.yaml`];
  const enforced = [...today, `${SHOP}/expected-proposals.yaml`];
  t.ok(
    doc.includes(
      `\`\`\`mermaid\n${await reach(today, { namespace: 'prod-payments', output: 'mermaid' })}\`\`\``,
    ),
    'today, prod-payments, mermaid',
  );
  t.ok(
    doc.includes(
      `\`\`\`mermaid\n${await reach(enforced, { asEnforced: true, output: 'mermaid' })}\`\`\``,
    ),
    'as enforced, mermaid',
  );
  t.ok(
    doc.includes(`\`\`\`dot\n${await reach(enforced, { asEnforced: true, output: 'dot' })}\`\`\``),
    'as enforced, dot',
  );
});

t.test('the real-capture walk in docs/observe.md is what advise and reach print', async (t) => {
  const CAPTURES = 'test/fixtures/reach/captures';
  let text = '';
  const advice = await runAdvise(
    parseAdviseOptions({
      filename: [`${CAPTURES}/cluster.yaml`],
      flows: [`${CAPTURES}/cilium-envelope.json`],
      config: 'policies/guardrails.yaml',
      exceptions: 'policies/exceptions.yaml',
      output: 'text',
    }),
    { stdout: (out) => (text += out), stdin: () => '' },
  );
  for (const line of [
    'CAPTURE INCOMPLETE: flows are missing from it, so enforce may cut dependencies this report does not show.',
    '  kube-apiserver (172.18.0.2) → prod-hooks/policy-webhook TCP/9443: cut at ingress (netguard-default-deny)',
    '#   NP004 (deny) at spec.egress[1].to[0].ipBlock.cidr: 8.8.8.8/32 is not inside an approved egress range, so these pods can reach addresses nobody reviewed.',
    '#   needs: add 8.8.8.8/32 to spec.networkPolicies.approvedEgressCIDRs (a reviewed change to the GuardrailPolicy)',
  ]) {
    t.ok(text.includes(line), `advise prints: ${line.slice(0, 60)}`);
    t.ok(doc.includes(line), `the doc shows: ${line.slice(0, 60)}`);
  }
  const webhook = advice.proposals.find(
    (p) => (p['metadata'] as { name: string }).name === 'policy-webhook-observed-entities',
  );
  t.same(webhook?.['spec'], {
    endpointSelector: { matchLabels: { app: 'policy-webhook', tier: 'backend' } },
    ingress: [
      {
        fromEntities: ['kube-apiserver'],
        toPorts: [{ ports: [{ port: '9443', protocol: 'TCP' }] }],
      },
    ],
  });
  t.ok(
    doc.includes(
      '    - fromEntities: [kube-apiserver]\n      toPorts: [{ports: [{port: "9443", protocol: TCP}]}]',
    ),
  );
  const observed = join(mkdtempSync(join(tmpdir(), 'netguard-docs-')), 'observed.yaml');
  writeFileSync(observed, advice.proposals.map((p) => `---\n${stringify(p)}`).join(''));
  const answer = await reach([`${CAPTURES}/cluster.yaml`, observed], {
    asEnforced: true,
    from: '10.244.2.14',
    to: 'prod-shop/api',
    port: '8443',
  });
  t.ok(doc.includes(`\`\`\`text\n${answer}\`\`\``), 'the reach answer on a pod IP');
});
