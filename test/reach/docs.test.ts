import { readFileSync } from 'node:fs';
import t from 'tap';
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
