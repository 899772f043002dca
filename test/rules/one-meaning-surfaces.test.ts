import t from 'tap';
import { runCheckInProcess } from '../check/run-check.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';

const ADVERSARIAL = 'test/fixtures/adversarial';

t.test('the webhook denies the internet with RFC 1918 carved out, over real TLS', async (t) => {
  const webhook = await startWebhook(t);
  const object = loadOne(`${ADVERSARIAL}/internet-ingress-except-rfc1918.yaml`);
  const review = reviewFor({
    ...object,
    metadata: { ...(object['metadata'] as object), namespace: 'prod-payments' },
  });
  const reply = await webhook.post('/validate', review);
  t.equal(reply.status, 200);
  const response = reply.json().response;
  t.equal(response.allowed, false);
  t.match(
    response.status.message,
    '- NP012 world-ingress at spec.ingress[0].from: these sources reach the internet (except 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), so anyone can connect to pods that are not frontends (tier: frontend).',
  );
});

t.test('check adds up policies across documents and names the one completed', async (t) => {
  const run = await runCheckInProcess([
    '-f',
    `${ADVERSARIAL}/internet-ingress-across-policies-in.yaml`,
    '--output',
    'json',
  ]);
  const results: { name: string; findings: { rule: string; message: string }[] }[] = JSON.parse(
    run.stdout,
  ).results;
  const np012 = results.flatMap((result) =>
    result.findings
      .filter((finding) => finding.rule === 'NP012')
      .map((finding) => [result.name, finding.message]),
  );
  // Offline, each policy is the one that completes the other: both are named.
  t.same(np012.map(([name]) => name).sort(), ['api-high', 'api-low']);
  t.match(
    np012.find(([name]) => name === 'api-high')?.[1],
    'with NetworkPolicy api-low (which selects these pods too)',
  );
});
