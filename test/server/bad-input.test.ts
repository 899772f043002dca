import t from 'tap';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';

const good = () => reviewFor(loadOne('test/fixtures/workloads/deployment-missing-tier.yaml'));
const withRequest = (change: (request: Record<string, unknown>) => void) => {
  const review = good();
  change(review.request as Record<string, unknown>);
  return review;
};

const cases: { name: string; body: unknown; status: number; says: RegExp; headers?: Record<string, string> }[] = [
  { name: 'not JSON', body: '{"apiVersion": "admission.k8s.io/v1", ', status: 400, says: /JSON/i },
  { name: 'wrong apiVersion', body: { ...good(), apiVersion: 'admission.k8s.io/v1beta1' }, status: 400, says: /apiVersion: Invalid input: expected "admission\.k8s\.io\/v1"/ },
  { name: 'wrong kind', body: { ...good(), kind: 'AdmissionResponse' }, status: 400, says: /kind: Invalid input: expected "AdmissionReview"/ },
  { name: 'missing request', body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, status: 400, says: /request: required \(object\)/ },
  { name: 'missing uid', body: withRequest((r) => delete r['uid']), status: 400, says: /request\.uid: required \(string\)/ },
  { name: 'object not an object', body: withRequest((r) => (r['object'] = ['a', 'list'])), status: 400, says: /request\.object: expected an object/ },
  { name: 'unknown operation', body: withRequest((r) => (r['operation'] = 'PATCH')), status: 400, says: /request\.operation: Invalid option/ },
  { name: 'a JSON array', body: '[]', status: 400, says: /expected object, received array/ },
  { name: 'wrong content type', body: 'apiVersion: admission.k8s.io/v1', status: 415, says: /Unsupported Media Type/i, headers: { 'content-type': 'application/yaml' } },
];

t.test('malformed reviews get a clear 4xx and the next good review is still served', async (t) => {
  const webhook = await startWebhook(t);
  for (const { name, body, status, says, headers } of cases) {
    const reply = await webhook.post('/validate', typeof body === 'string' ? body : JSON.stringify(body), headers);
    t.equal(reply.status, status, `${name}: HTTP ${status}`);
    t.equal(reply.headers['content-type']?.toString().split(';')[0], 'application/json', `${name}: JSON error`);
    const parsed = reply.json();
    const said = [parsed.error, ...(parsed.problems ?? [])].join('\n');
    t.match(said, says, `${name}: says what is wrong (${said})`);
    const next = await webhook.post('/validate', good());
    t.equal(next.status, 200, `${name}: the next review is served`);
    t.equal(next.json().response.allowed, false);
  }
});

t.test('a body over the limit is refused with 413 and the server keeps serving', async (t) => {
  const webhook = await startWebhook(t, { deps: { bodyLimit: 64 * 1024 } });
  const big = good() as any;
  big.request.object.metadata.annotations.padding = 'x'.repeat(100 * 1024);
  const reply = await webhook.post('/validate', big);
  t.equal(reply.status, 413);
  t.match(reply.body, /too large/i);
  const next = await webhook.post('/validate', good());
  t.equal(next.status, 200);
});

t.test('the default body limit takes a review carrying a 1.5 MiB object and its oldObject', async (t) => {
  const webhook = await startWebhook(t);
  const old = loadOne('test/fixtures/workloads/deployment-missing-tier.yaml') as any;
  old.metadata.annotations.blob = 'y'.repeat(1.5 * 1024 * 1024);
  const changed = structuredClone(old);
  changed.spec.replicas = 3;
  const reply = await webhook.post('/validate', reviewFor(changed, { operation: 'UPDATE', oldObject: old }));
  t.equal(reply.status, 200);
  t.equal(reply.json().response.allowed, true, 'pre-existing finding only warns');
});

t.test('health and readiness', async (t) => {
  let waiting = ['namespace cache not synced'];
  const webhook = await startWebhook(t, { notReady: () => waiting });
  t.equal((await webhook.get('/healthz')).status, 200);
  const notReady = await webhook.get('/readyz');
  t.equal(notReady.status, 503);
  t.same(notReady.json(), { status: 'not ready', waiting: ['namespace cache not synced'] });
  waiting = [];
  t.equal((await webhook.get('/readyz')).status, 200);
  t.equal((await webhook.get('/nope')).status, 404);
});
