import fc from 'fast-check';
import t from 'tap';
import { validate } from '../../src/engine/evaluate.ts';
import type { AdmissionInput } from '../../src/engine/types.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { injectableApp } from '../helpers/app.ts';
import { contextFor } from '../helpers/context.ts';
import { loadFixture, reviewFor } from '../helpers/reviews.ts';
import '../helpers/property.ts';

const objects: KubeObject[] = [
  ...loadFixture('test/fixtures/workloads/deployment-missing-tier.yaml'),
  ...loadFixture('test/fixtures/workloads/pod-from-replicaset.yaml'),
  ...loadFixture('test/fixtures/workloads/cronjob-unlabelled.yaml'),
  ...loadFixture('test/fixtures/namespaces/prod-payments.yaml'),
  ...loadFixture('test/fixtures/network-policies/realistic/05-allow-all-ingress.yaml'),
  ...loadFixture('test/fixtures/network-policies/realistic/14-egress-world-with-except.yaml'),
];

/** Replaces the value at a random path of a JSON value with a random JSON value. */
function mutateAt(value: unknown, path: readonly number[], replacement: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement;
  const [head = 0, ...rest] = path;
  const key = keys[head % keys.length] ?? '';
  const copy: Record<string, unknown> = Array.isArray(value)
    ? ([...value] as unknown as Record<string, unknown>)
    : { ...value };
  copy[key] = mutateAt((value as Record<string, unknown>)[key], rest, replacement);
  return copy;
}

const mutatedReview = fc
  .record({
    object: fc.constantFrom(...objects),
    operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE'),
    namespace: fc.constantFrom('dev-a', 'staging-a', 'prod-a', 'kube-system', ''),
    path: fc.array(fc.nat(40), { maxLength: 8 }),
    replacement: fc.jsonValue({ maxDepth: 4 }),
  })
  .map(({ object, operation, namespace, path, replacement }) => {
    const review = reviewFor(object, {
      operation: operation as 'CREATE',
      oldObject: operation === 'CREATE' ? undefined : object,
    });
    review.request.namespace = namespace;
    return mutateAt(review, path, replacement);
  });

t.test(
  'mutated reviews never crash or 500; every review with a uid gets that uid back',
  async (t) => {
    const app = injectableApp();
    t.teardown(() => app.close());
    await fc.assert(
      fc.asyncProperty(
        mutatedReview,
        fc.constantFrom('/validate', '/mutate'),
        async (review, url) => {
          const reply = await app.inject({
            method: 'POST',
            url,
            payload: JSON.stringify(review),
            headers: { 'content-type': 'application/json' },
          });
          if (reply.statusCode !== 200 && reply.statusCode !== 400) return false;
          const body = reply.json();
          if (reply.statusCode === 400)
            return (
              typeof body.error === 'string' &&
              Array.isArray(body.problems) &&
              body.problems.length > 0
            );
          const request = (review as { request: { uid: unknown } }).request;
          return body.response.uid === request.uid && typeof body.response.allowed === 'boolean';
        },
      ),
    );
  },
);

t.test('random JSON bodies get 200 or 400, never 500', async (t) => {
  const app = injectableApp();
  t.teardown(() => app.close());
  await fc.assert(
    fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (body) => {
      const reply = await app.inject({
        method: 'POST',
        url: '/validate',
        payload: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      return reply.statusCode === 400 || reply.statusCode === 200;
    }),
  );
});

t.test('findings are deterministic: the same input twice gives the same decision', async (_t) => {
  const ctx = contextFor();
  fc.assert(
    fc.property(
      fc.constantFrom(...objects),
      fc.constantFrom('dev-a', 'staging-a', 'prod-a'),
      (object, namespace) => {
        const input: AdmissionInput = {
          uid: 'u',
          kind: String(object['kind']),
          operation: 'CREATE',
          namespace,
          name: 'x',
          object,
          oldObject: undefined,
          user: { username: 'u', groups: [] },
          dryRun: false,
        };
        return (
          JSON.stringify(validate(input, ctx)) ===
          JSON.stringify(validate(structuredClone(input), ctx))
        );
      },
    ),
  );
});

t.test(
  'a __proto__ or constructor key gets a 400 that names the problem (found by a random seed)',
  async (t) => {
    const app = injectableApp();
    t.teardown(() => app.close());
    for (const payload of [
      '{"__proto__":0}',
      '{"request":{"uid":"u","constructor":{"prototype":{}}}}',
    ]) {
      const reply = await app.inject({
        method: 'POST',
        url: '/validate',
        payload,
        headers: { 'content-type': 'application/json' },
      });
      t.equal(reply.statusCode, 400, payload);
      t.match(reply.json(), {
        error: /^body rejected: Object contains forbidden (prototype|constructor) property$/,
        problems: [/forbidden (prototype|constructor) property/],
      });
    }
  },
);
