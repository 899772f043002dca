import t from 'tap';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';

t.test('a Deployment without tier in prod-shop is denied with POD001', async (t) => {
  const webhook = await startWebhook(t);
  const review = reviewFor(loadOne('test/fixtures/workloads/deployment-missing-tier.yaml'));
  const reply = await webhook.post('/validate', review);
  t.equal(reply.status, 200);
  const response = reply.json().response;
  t.equal(response.uid, review.request.uid);
  t.equal(response.allowed, false);
  t.match(response.status.message, /POD001 required-labels at spec\.template\.metadata\.labels/);
});
