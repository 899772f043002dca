import fc from 'fast-check';
import t from 'tap';
import { exceededBound, REVIEW_BOUNDS } from '../../src/admission/bounds.ts';
import { rawObjectBound } from '../../src/admission/raw-bounds.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { contextFor } from '../helpers/context.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';
import '../helpers/property.ts';

const MiB = 1024 * 1024;

/** The plain recursive count the bound must agree with. */
function naive(value: unknown, depth = 1): { values: number; depth: number } {
  if (value === null || typeof value !== 'object') return { values: 1, depth: 0 };
  const children = Array.isArray(value) ? value : Object.values(value);
  let values = 1;
  let deepest = depth;
  for (const child of children) {
    const inner = naive(child, depth + 1);
    values += inner.values;
    deepest = Math.max(deepest, inner.depth);
  }
  return { values, depth: deepest };
}

t.test('the bound agrees with a plain count of values and nesting', async (t) => {
  const bounds = { values: 40, depth: 4 };
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
      const { values, depth } = naive(value);
      const exceeded = exceededBound(value, bounds);
      if (values <= bounds.values && depth <= bounds.depth) return exceeded === undefined;
      if (exceeded === undefined) return false;
      // Counting stops at the first bound passed: it is one that really is passed.
      return exceeded.bound === 'values' ? values > bounds.values : depth > bounds.depth;
    }),
  );
  t.equal(exceededBound(Array(39).fill(1), bounds), undefined, 'the array and 39 items: 40 values');
  t.same(exceededBound(Array(40).fill(1), bounds), { bound: 'values', limit: 40 }, '41 values');
  t.equal(exceededBound([[[[]]]], bounds), undefined, 'four levels');
  t.same(exceededBound([[[[[]]]]], bounds), { bound: 'depth', limit: 4 }, 'five');
});

/** The hostile policy: `rules` egress rules, each one CIDR and one port (80 bytes a rule). */
function hugePolicy(namespace: string, rules: number): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'huge', namespace },
    spec: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: Array.from({ length: rules }, (_, i) => ({
        to: [{ ipBlock: { cidr: `10.${(i >> 8) & 255}.${i & 255}.0/24` } }],
        ports: [{ protocol: 'TCP', port: 1024 + (i % 60_000) }],
      })),
    },
  };
}

t.test(
  'a 3 MiB hostile NetworkPolicy review gets an AdmissionReview denial naming the bound, in every mode and from both webhooks',
  async (t) => {
    const webhook = await startWebhook(t, { context: () => contextFor() });
    for (const namespace of ['prod-shop', 'dev-shop']) {
      const body = JSON.stringify(reviewFor(hugePolicy(namespace, 35_000)));
      t.ok(
        body.length > 2.9 * MiB && body.length < 3 * MiB,
        `${body.length} bytes: under the API server's 3 MiB`,
      );
      for (const path of ['/validate', '/mutate']) {
        const reply = await webhook.post(path, body);
        t.equal(reply.status, 200, `${path} in ${namespace}: HTTP 200, never 4xx or 5xx`);
        const response = reply.json().response;
        t.equal(response.allowed, false, `${path} in ${namespace}: denied`);
        t.equal(response.status.code, 403);
        t.match(
          response.status.message,
          /netguard review bound at request\.object: this NetworkPolicy has more than 100,000 JSON values.*up to 100,000 values nested up to 32 deep.*Split it into several smaller/,
          'the denial names the bound and what to do',
        );
      }
    }
  },
);

t.test('an object nested deeper than the bound is denied naming the depth', async (t) => {
  const webhook = await startWebhook(t, { context: () => contextFor() });
  const pod = loadOne('test/fixtures/workloads/pod-bare.yaml');
  let deep: unknown = 'leaf';
  for (let i = 0; i < REVIEW_BOUNDS.depth + 5; i++) deep = { inner: deep };
  const reply = await webhook.post(
    '/validate',
    reviewFor({
      ...pod,
      metadata: { ...(pod['metadata'] as object), namespace: 'prod-shop' },
      spec: { deep },
    }),
  );
  t.equal(reply.status, 200);
  t.equal(reply.json().response.allowed, false);
  t.match(reply.json().response.status.message, /this Pod has nesting deeper than 32 levels/);
});

t.test(
  'a stored object past the bound can be shrunk or deleted: its oldObject is judged by identity only',
  async (t) => {
    const webhook = await startWebhook(t, { context: () => contextFor() });
    const old = hugePolicy('prod-shop', 40_000);
    const shrunk = loadOne('test/fixtures/bounds/shrunk-policy.yaml');
    const update = await webhook.post(
      '/validate',
      reviewFor(shrunk, { operation: 'UPDATE', oldObject: old }),
    );
    t.equal(update.status, 200);
    t.equal(update.json().response.allowed, true, 'shrinking it to a default deny is admitted');
    t.notMatch(JSON.stringify(update.json()), /review bound/, 'judged by the rules, not the bound');
    const removal = await webhook.post(
      '/validate',
      reviewFor(undefined, { operation: 'DELETE', oldObject: old }),
    );
    t.equal(removal.status, 200);
    t.equal(removal.json().response.allowed, true, 'deleting it is admitted');
  },
);

t.test(
  'the raw scan finds the same bound in the bytes as the parsed walk, whatever the spacing and escapes',
  async (t) => {
    const bounds = { values: 40, depth: 4 };
    const container = fc.oneof(
      fc.array(fc.jsonValue({ maxDepth: 5 }), { maxLength: 12 }),
      fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 5 }), { maxKeys: 12 }),
    );
    fc.assert(
      fc.property(container, fc.constantFrom(0, 2), fc.boolean(), (object, indent, escaped) => {
        let body = JSON.stringify(
          {
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            request: { uid: 'u', object, oldObject: { object: [1, 2] } },
          },
          null,
          indent,
        );
        // A hostile sender may spell the key with an escape; JSON means the same.
        if (escaped) body = body.replace('"object":', '"obj\\u0065ct":');
        const raw = rawObjectBound(Buffer.from(body), bounds);
        const parsed = exceededBound(object, bounds);
        if (parsed === undefined) return raw === undefined;
        if (raw === undefined) return false;
        const envelope = JSON.parse(raw.envelope.toString('utf8'));
        return (
          JSON.stringify(envelope.request.object) === '{}' &&
          envelope.request.uid === 'u' &&
          (raw.exceeded.bound === 'values'
            ? naive(object).values > bounds.values
            : naive(object).depth > bounds.depth)
        );
      }),
    );
    t.pass('agreed on 2,000 objects');
  },
);
