import t from 'tap';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';

const FIXTURES = 'test/fixtures/network-policies/webhook';

t.test('over real TLS: NetworkPolicy guardrails at kubectl apply', async (t) => {
  const webhook = await startWebhook(t);
  const validate = async (file: string) => {
    const review = reviewFor(loadOne(`${FIXTURES}/${file}`));
    const reply = await webhook.post('/validate', review);
    t.equal(reply.status, 200, `${file}: HTTP 200 whatever the verdict`);
    const response = reply.json().response;
    t.equal(response.uid, review.request.uid);
    return response;
  };

  t.test('egress to 0.0.0.0/0 in a prod-* namespace is denied by NP004', async (t) => {
    const response = await validate('prod-world-egress.yaml');
    t.equal(response.allowed, false);
    t.equal(response.status.code, 403);
    t.equal(
      response.status.message,
      [
        'NetworkPolicy prod-payments/egress-anywhere violates 1 guardrail (environment production, mode enforce):',
        '- NP004 world-egress at spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/0 lets these pods reach any address on the internet. Allow only the destinations they need (approved: 160.79.104.0/23).',
        'Need more time? netguard exception request -n prod-payments --rule NP004 --target networkpolicy/egress-anywhere --expires 14d --reason "<why this is needed>" --apply',
      ].join('\n'),
    );
  });

  t.test(
    'a tier: sandbox policy to 160.79.104.0/23 on TCP 443 plus DNS to kube-dns is admitted in prod-*',
    async (t) => {
      const response = await validate('prod-sandbox-approved.yaml');
      t.equal(response.allowed, true);
      t.equal(response.status, undefined);
      t.same(response.warnings ?? [], []);
    },
  );

  t.test(
    'the same policy with an extra rule to namespaceSelector: {} is denied by NP003 alone',
    async (t) => {
      const response = await validate('prod-sandbox-any-namespace.yaml');
      t.equal(response.allowed, false);
      const message: string = response.status.message;
      t.match(
        message,
        /^NetworkPolicy prod-lab\/sandbox-egress violates 1 guardrail \(environment production, mode enforce\):\n- NP003 any-namespace at spec\.egress\[2\]\.to\[0\]\.namespaceSelector: an empty namespaceSelector matches all namespaces/,
      );
      t.match(message, '--rule NP003 --target networkpolicy/sandbox-egress');
      t.same(
        message.match(/\b(NP|POD|NS|EX)\d{3}\b/g),
        ['NP003', 'NP003'],
        'no other rule named in the denial',
      );
      t.same(response.warnings ?? [], []);
    },
  );

  t.test('in a dev-* namespace the world egress is admitted with one warning line', async (t) => {
    const object = loadOne(`${FIXTURES}/prod-world-egress.yaml`);
    object['metadata'] = { name: 'egress-anywhere', namespace: 'dev-payments' };
    const reply = await webhook.post('/validate', reviewFor(object));
    const response = reply.json().response;
    t.equal(response.allowed, true);
    t.same(response.warnings, [
      'netguard NP004: spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/0 lets these pods reach any address on the internet',
    ]);
  });

  t.test(
    'a user deleting a netguard baseline policy is denied by NP011, even in observe',
    async (t) => {
      const baseline = loadOne('test/fixtures/network-policies/rules/np011-baseline.yaml');
      baseline['metadata'] = { ...(baseline['metadata'] as object), namespace: 'dev-x' };
      const reply = await webhook.post(
        '/validate',
        reviewFor(undefined, {
          operation: 'DELETE',
          oldObject: baseline,
          user: { username: 'alice@example.com' },
        }),
      );
      const response = reply.json().response;
      t.equal(response.allowed, false);
      t.match(
        response.status.message,
        /- NP011 baseline-tamper at metadata\.labels\["app\.kubernetes\.io\/managed-by"\]: this is a baseline NetworkPolicy managed by netguard/,
      );
    },
  );
});
