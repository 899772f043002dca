import t from 'tap';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';

const good = () => reviewFor(loadOne('test/fixtures/workloads/deployment-missing-tier.yaml'));
const withRequest = (change: (request: Record<string, unknown>) => void) => {
  const review = good();
  change(review.request as Record<string, unknown>);
  return review;
};

const cases: {
  name: string;
  body: unknown;
  status: number;
  says: RegExp;
  headers?: Record<string, string>;
}[] = [
  { name: 'not JSON', body: '{"apiVersion": "admission.k8s.io/v1", ', status: 400, says: /JSON/i },
  {
    name: 'wrong apiVersion',
    body: { ...good(), apiVersion: 'admission.k8s.io/v1beta1' },
    status: 400,
    says: /apiVersion: Invalid input: expected "admission\.k8s\.io\/v1"/,
  },
  {
    name: 'wrong kind',
    body: { ...good(), kind: 'AdmissionResponse' },
    status: 400,
    says: /kind: Invalid input: expected "AdmissionReview"/,
  },
  {
    name: 'missing request',
    body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' },
    status: 400,
    says: /request: required \(object\)/,
  },
  {
    name: 'missing uid',
    body: withRequest((r) => delete r['uid']),
    status: 400,
    says: /request\.uid: required \(string\)/,
  },
  {
    name: 'object not an object',
    body: withRequest((r) => (r['object'] = ['a', 'list'])),
    status: 400,
    says: /request\.object: expected an object/,
  },
  {
    name: 'unknown operation',
    body: withRequest((r) => (r['operation'] = 'PATCH')),
    status: 400,
    says: /request\.operation: Invalid option/,
  },
  { name: 'a JSON array', body: '[]', status: 400, says: /expected object, received array/ },
  {
    name: 'wrong content type',
    body: 'apiVersion: admission.k8s.io/v1',
    status: 415,
    says: /Unsupported Media Type/i,
    headers: { 'content-type': 'application/yaml' },
  },
  // The README promises 415 for anything but JSON; Fastify's default text/plain parser answered 400.
  {
    name: 'text/plain',
    body: JSON.stringify(good()),
    status: 415,
    says: /Unsupported Media Type: text\/plain/i,
    headers: { 'content-type': 'text/plain' },
  },
  // What the API server never sends: a CREATE or UPDATE without the object, an UPDATE or DELETE without the stored one.
  {
    name: 'CREATE with object null',
    body: withRequest((r) => (r['object'] = null)),
    status: 400,
    says: /request\.object: required for CREATE/,
  },
  {
    name: 'CREATE without object',
    body: withRequest((r) => delete r['object']),
    status: 400,
    says: /request\.object: required for CREATE/,
  },
  {
    name: 'UPDATE without oldObject',
    body: withRequest((r) => (r['operation'] = 'UPDATE')),
    status: 400,
    says: /request\.oldObject: required for UPDATE/,
  },
  {
    name: 'DELETE without oldObject',
    body: withRequest((r) => Object.assign(r, { operation: 'DELETE', object: null })),
    status: 400,
    says: /request\.oldObject: required for DELETE/,
  },
];

t.test('malformed reviews get a clear 4xx and the next good review is still served', async (t) => {
  const webhook = await startWebhook(t);
  for (const { name, body, status, says, headers } of cases) {
    const reply = await webhook.post(
      '/validate',
      typeof body === 'string' ? body : JSON.stringify(body),
      headers,
    );
    t.equal(reply.status, status, `${name}: HTTP ${status}`);
    t.equal(
      reply.headers['content-type']?.toString().split(';')[0],
      'application/json',
      `${name}: JSON error`,
    );
    const parsed = reply.json();
    const said = [parsed.error, ...(parsed.problems ?? [])].join('\n');
    t.match(said, says, `${name}: says what is wrong (${said})`);
    const next = await webhook.post('/validate', good());
    t.equal(next.status, 200, `${name}: the next review is served`);
    t.equal(next.json().response.allowed, false);
  }
});

t.test('invalid UTF-8 is refused with 400, never decoded into U+FFFD and judged', async (t) => {
  const webhook = await startWebhook(t);
  const text = JSON.stringify(good());
  // 0xC0 0xAF is an overlong "/", 0xFF never occurs in UTF-8: both inside the template's tier label value.
  for (const bad of [
    Buffer.from([0xc0, 0xaf]),
    Buffer.from([0xff]),
    Buffer.from([0xed, 0xa0, 0x80]),
  ]) {
    const at = text.indexOf('"app":');
    const body = Buffer.concat([
      Buffer.from(text.slice(0, at + 7)),
      bad,
      Buffer.from(text.slice(at + 7)),
    ]);
    const reply = await webhook.post('/validate', body);
    t.equal(reply.status, 400, `bytes ${bad.toString('hex')}`);
    t.match(reply.json().error, /body is not valid UTF-8/);
  }
  const accented = await webhook.post(
    '/validate',
    Buffer.from(text.replace('"app":"', '"app":"caf\u00e9-'), 'utf8'),
  );
  t.equal(accented.status, 200, 'valid multi-byte UTF-8 is judged as usual');
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

t.test(
  'the default body limit takes a review carrying a 1.5 MiB object and its oldObject',
  async (t) => {
    const webhook = await startWebhook(t);
    const old = loadOne('test/fixtures/workloads/deployment-missing-tier.yaml') as any;
    old.metadata.annotations.blob = 'y'.repeat(1.5 * 1024 * 1024);
    const changed = structuredClone(old);
    changed.spec.replicas = 3;
    const reply = await webhook.post(
      '/validate',
      reviewFor(changed, { operation: 'UPDATE', oldObject: old }),
    );
    t.equal(reply.status, 200);
    t.equal(reply.json().response.allowed, true, 'pre-existing finding only warns');
  },
);

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

t.test('/readyz says where clusterCIDRs came from, ready or not', async (t) => {
  let waiting = ['networkpolicies cache not synced'];
  const detail = 'clusterCIDRs 10.244.0.0/16 (from Node podCIDRs)';
  const webhook = await startWebhook(t, {
    notReady: () => waiting,
    deps: { readyDetail: () => ({ clusterCIDRs: detail }) },
  });
  const notReady = await webhook.get('/readyz');
  t.same(notReady.json(), {
    status: 'not ready',
    waiting: ['networkpolicies cache not synced'],
    clusterCIDRs: detail,
  });
  waiting = [];
  t.same((await webhook.get('/readyz')).json(), { status: 'ready', clusterCIDRs: detail });
});
