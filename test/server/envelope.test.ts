import fc from 'fast-check';
import t from 'tap';
import { isAdmissionReview } from '../../src/admission/envelope.ts';
import { admissionReviewSchema } from '../../src/admission/schema.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import '../helpers/property.ts';

// The hot path checks reviews with a hand-written guard; zod's schema stays the definition and
// words the refusals. Both must say yes to exactly the same bodies.
const agree = (body: unknown): boolean =>
  isAdmissionReview(body) === admissionReviewSchema.safeParse(body).success;

const object = loadOne('test/fixtures/workloads/deployment-missing-tier.yaml');
const base = (operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT') =>
  reviewFor(operation === 'DELETE' ? undefined : object, {
    operation: operation as 'CREATE',
    oldObject: operation === 'CREATE' ? undefined : object,
  });

const FIELDS = [
  'uid',
  'kind',
  'resource',
  'subResource',
  'name',
  'namespace',
  'operation',
  'userInfo',
  'object',
  'oldObject',
  'dryRun',
] as const;
const SUBFIELDS = ['group', 'version', 'kind', 'resource', 'username', 'groups'] as const;
const odd = fc.constantFrom<unknown>(
  undefined,
  null,
  '',
  'x',
  0,
  1,
  true,
  false,
  [],
  ['a'],
  [1],
  {},
  { kind: 'Pod' },
  'CREATE',
  'PATCH',
  'admission.k8s.io/v1',
);

const changed = fc
  .record({
    operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT' as const),
    top: fc.option(
      fc.record({ key: fc.constantFrom('apiVersion', 'kind', 'request'), value: odd }),
      { nil: undefined },
    ),
    edits: fc.array(
      fc.record({
        field: fc.constantFrom(...FIELDS),
        sub: fc.option(fc.constantFrom(...SUBFIELDS), { nil: undefined }),
        value: odd,
      }),
      { maxLength: 3 },
    ),
  })
  .map(({ operation, top, edits }) => {
    const review: Record<string, unknown> = structuredClone(base(operation));
    const request = review['request'] as Record<string, unknown>;
    for (const { field, sub, value } of edits) {
      const target = request[field];
      if (sub !== undefined && target !== null && typeof target === 'object')
        (target as Record<string, unknown>)[sub] = value;
      else if (value === undefined) delete request[field];
      else request[field] = value;
    }
    if (top !== undefined) {
      if (top.value === undefined) delete review[top.key];
      else review[top.key] = top.value;
    }
    return review;
  });

t.test('the guard and the zod schema accept exactly the same reviews', async (t) => {
  for (const operation of ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const)
    t.ok(isAdmissionReview(base(operation)), `a real ${operation} passes`);
  t.notOk(
    isAdmissionReview({ ...base('CREATE'), request: { ...base('CREATE').request, object: null } }),
    'CREATE without object',
  );
  fc.assert(fc.property(changed, agree));
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), agree));
});
