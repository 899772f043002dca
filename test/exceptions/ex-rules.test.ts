import jsonPatch from 'fast-json-patch';
import t from 'tap';
import { decodeReview } from '../../src/admission/decode.ts';
import { validate } from '../../src/engine/evaluate.ts';
import type { AdmissionInput } from '../../src/engine/types.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { mutate } from '../../src/mutation/mutate.ts';
import { contextFor, shippedPolicy } from '../helpers/context.ts';
import { loadOne, reviewFor, type ReviewOptions } from '../helpers/reviews.ts';

const policy = shippedPolicy();
const NOW = new Date('2026-11-22T00:00:00Z');
const ALICE = { username: 'alice@example.com', groups: ['system:authenticated', 'team-crawl'] };
const CAROL = {
  username: 'carol@example.com',
  groups: ['system:authenticated', 'netguard:approvers'],
};
const DAVE = { username: 'dave@example.com', groups: ['system:authenticated'] };

const request = (): KubeObject => loadOne('test/fixtures/exceptions/request.yaml', NOW);
const spec = (object: KubeObject): Record<string, unknown> =>
  object['spec'] as Record<string, unknown>;
const withSpec = (object: KubeObject, changes: Record<string, unknown>): KubeObject => {
  const copy = structuredClone(object);
  Object.assign(spec(copy), changes);
  for (const [key, value] of Object.entries(changes))
    if (value === undefined) delete spec(copy)[key];
  return copy;
};

function inputOf(object: KubeObject, options: ReviewOptions): AdmissionInput {
  const decoded = decodeReview(reviewFor(object, options));
  if (!decoded.ok) throw new Error(decoded.problems.join('\n'));
  return decoded.input;
}

/** What the API server does: /mutate, apply the patch, then /validate the result. */
function admit(object: KubeObject, options: ReviewOptions) {
  const ctx = contextFor({ policy, now: NOW });
  const mutation = mutate(inputOf(object, options), ctx);
  const mutated = jsonPatch.applyPatch(structuredClone(object), mutation.patch).newDocument;
  const decision = validate(inputOf(mutated, options), ctx);
  return {
    mutation,
    mutated,
    decision,
    denied: decision.findings
      .filter((f) => f.level === 'deny')
      .map((f) => `${f.rule} ${f.path}: ${f.message}`),
  };
}

t.test('a well-formed request is admitted and netguard records the requester', async (t) => {
  const { decision, mutated, mutation } = admit(request(), { user: ALICE });
  t.equal(decision.allowed, true);
  t.same(decision.findings, []);
  t.equal(spec(mutated)['requestedBy'], 'alice@example.com');
  t.same(mutation.warnings, []);
});

t.test('EX001: expiry required, valid, in the future, within the environment limit', async (t) => {
  const cases: [unknown, string][] = [
    [undefined, 'EX001 spec.expires: is missing, and every waiver must expire.'],
    [
      'next week',
      'EX001 spec.expires: "next week" is not an RFC 3339 timestamp, so nobody can tell when the waiver ends.',
    ],
    [
      '2026-11-21T23:59:59Z',
      'EX001 spec.expires: 2026-11-21T23:59:59Z is not in the future, so the waiver would waive nothing.',
    ],
    [
      '2026-12-06T00:00:01Z',
      'EX001 spec.expires: 2026-12-06T00:00:01Z is 15 days away, longer than a waiver may last here.',
    ],
  ];
  for (const [expires, expected] of cases) {
    const { decision, denied } = admit(withSpec(request(), { expires }), { user: ALICE });
    t.equal(decision.allowed, false, String(expires));
    t.same(denied, [expected]);
  }
  t.equal(
    admit(withSpec(request(), { expires: '2026-12-06T00:00:00Z' }), { user: ALICE }).decision
      .allowed,
    true,
    'exactly 14d is allowed in production',
  );
  const dev = withSpec(request(), { expires: '2027-02-19T00:00:00Z' });
  (dev['metadata'] as Record<string, unknown>)['namespace'] = 'dev-crawl';
  t.equal(
    admit(dev, { user: ALICE }).decision.allowed,
    true,
    '89 days is fine in development (90d), even in observe mode',
  );
  const { decision } = admit(withSpec(request(), { expires: '2026-12-06T00:00:01Z' }), {
    user: ALICE,
  });
  t.match(
    decision.message,
    'EX001 exception-expiry at spec.expires: 2026-12-06T00:00:01Z is 15 days away, longer than a waiver may last here. Choose a date sooner; environment production allows at most 14d.',
  );
});

t.test('EX002: reason and owner required and not placeholders', async (t) => {
  // Without the mutating webhook (or in a file), a missing owner is denied ...
  const ctx = contextFor({ policy, now: NOW });
  const bypassed = validate(
    inputOf(withSpec(request(), { reason: '  ', owner: undefined, requestedBy: ALICE.username }), {
      user: ALICE,
    }),
    ctx,
  );
  t.same(
    bypassed.findings
      .filter((f) => f.level === 'deny')
      .map((f) => `${f.rule} ${f.path}: ${f.message}`),
    [
      'EX002 spec.reason: is missing or empty, so nobody can tell why the guardrail is waived.',
      'EX002 spec.owner: is missing or empty, so nobody answers for the waiver.',
    ],
  );
  t.notMatch(
    bypassed.message ?? '',
    /exception request/,
    'a waiver denial never offers to waive EX rules',
  );
  t.match(
    bypassed.message ?? '',
    /\nEX rules guard the waivers themselves and cannot be waived: fix the fields above\.$/,
  );
  // ... through the webhooks, the owner defaults to the namespace's netguard.dev/owner, else the requester.
  const { denied, mutated } = admit(withSpec(request(), { reason: '  ', owner: undefined }), {
    user: ALICE,
  });
  t.same(denied, [
    'EX002 spec.reason: is missing or empty, so nobody can tell why the guardrail is waived.',
  ]);
  t.equal(spec(mutated)['owner'], 'alice@example.com', 'no owner annotation: the requester');
  const annotated = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'prod-crawl',
      annotations: { 'netguard.dev/owner': 'team-crawl@example.com' },
    },
  };
  const owned = mutate(
    inputOf(withSpec(request(), { owner: '' }), { user: ALICE }),
    contextFor({ policy, now: NOW, objects: [annotated] }),
  );
  t.same(
    owned.patch.filter((op) => op.path === '/spec/owner'),
    [{ op: 'replace', path: '/spec/owner', value: 'team-crawl@example.com' }],
  );
  const kept = mutate(
    inputOf(request(), { user: ALICE }),
    contextFor({ policy, now: NOW, objects: [annotated] }),
  );
  t.same(
    kept.patch.filter((op) => op.path === '/spec/owner'),
    [],
    'an owner given is kept',
  );
  t.same(admit(withSpec(request(), { reason: '...' }), { user: ALICE }).denied, [
    'EX002 spec.reason: "..." is a placeholder, so nobody can tell why the guardrail is waived.',
  ]);
});

t.test('EX003: known rules, named targets, no cluster-wide or all-rules waivers', async (t) => {
  t.same(admit(withSpec(request(), { rules: [] }), { user: ALICE }).denied, [
    'EX003 spec.rules: names no rule, and a waiver must say which guardrails it waives (no all-rules waivers).',
  ]);
  t.same(admit(withSpec(request(), { rules: ['NP004', '*', 'EX004'] }), { user: ALICE }).denied, [
    'EX003 spec.rules[1]: "*" is not a netguard rule ID, so the waiver cannot say what it waives.',
    'EX003 spec.rules[2]: EX004 protects the waivers themselves and cannot be waived.',
  ]);
  t.same(
    admit(withSpec(request(), { target: { kind: 'NetworkPolicy' } }), { user: ALICE }).denied,
    [
      'EX003 spec.target.name: is missing, and a waiver must name what it covers (no cluster-wide waivers).',
    ],
  );
  t.same(admit(withSpec(request(), { target: undefined }), { user: ALICE }).denied, [
    'EX003 spec.target: is missing, and a waiver must name what it covers (no cluster-wide waivers).',
  ]);
  t.same(
    admit(withSpec(request(), { target: { kind: 'Deployment', name: 'crawler' } }), { user: ALICE })
      .denied,
    [
      'EX003 spec.target.kind: NP004 never judges a Deployment, so this waiver would waive nothing.',
    ],
  );
  t.same(
    admit(
      withSpec(request(), { rules: ['POD002'], target: { kind: 'Deployment', selector: {} } }),
      { user: ALICE },
    ).denied,
    ['EX003 spec.target.selector: is empty and would cover every Deployment in the namespace.'],
  );
  t.same(
    admit(
      withSpec(request(), {
        target: { kind: 'NetworkPolicy', selector: { matchLabels: { app: 'x' } } },
      }),
      { user: ALICE },
    ).denied,
    ['EX003 spec.target.selector: a selector only picks workloads and Pods, not a NetworkPolicy.'],
  );
  t.same(
    admit(
      withSpec(request(), {
        rules: ['NS001'],
        target: { kind: 'Namespace', name: 'legacy-batch' },
      }),
      { user: ALICE },
    ).denied,
    [
      'EX003 spec.target.kind: a Namespace waiver must live in netguard-system, since it must exist before the namespace it covers.',
    ],
  );
  t.equal(
    admit(
      withSpec(request(), {
        rules: ['POD002'],
        target: { kind: 'Deployment', selector: { matchLabels: { app: 'crawler' } } },
      }),
      { user: ALICE },
    ).decision.allowed,
    true,
  );
});

t.test('EX004: a forged requestedBy is overwritten on CREATE', async (t) => {
  const { mutated, mutation, decision } = admit(
    withSpec(request(), { requestedBy: 'carol@example.com' }),
    { user: ALICE },
  );
  t.equal(spec(mutated)['requestedBy'], 'alice@example.com');
  t.same(mutation.warnings, [
    'netguard EX004: spec.requestedBy: set to alice@example.com (the requester), not "carol@example.com"',
  ]);
  t.equal(decision.allowed, true);
});

t.test('EX004: without the mutating webhook a forged requester is denied', async (t) => {
  const ctx = contextFor({ policy, now: NOW });
  const decision = validate(
    inputOf(withSpec(request(), { requestedBy: 'carol@example.com' }), { user: ALICE }),
    ctx,
  );
  t.match(
    decision.message,
    'EX004 exception-approval at spec.requestedBy: is "carol@example.com" but the waiver was requested by alice@example.com, and the requester cannot be forged.',
  );
});

t.test('EX004: approval rules', async (t) => {
  const requested = withSpec(request(), { requestedBy: 'alice@example.com' });
  t.same(
    admit(withSpec(request(), { approvedBy: 'alice@example.com' }), { user: ALICE }).denied,
    [
      'EX004 spec.approvedBy: cannot be set to "alice@example.com": the requester cannot approve their own waiver.',
    ],
    'self-approval at creation',
  );
  const approverRequest = admit(withSpec(request(), { approvedBy: 'carol@example.com' }), {
    user: CAROL,
  });
  t.same(
    approverRequest.denied,
    [
      'EX004 spec.approvedBy: cannot be set to "carol@example.com": the requester cannot approve their own waiver.',
    ],
    'an approver cannot approve their own request either',
  );
  t.same(
    admit(withSpec(requested, { approvedBy: 'dave@example.com' }), {
      user: DAVE,
      operation: 'UPDATE',
      oldObject: requested,
    }).denied,
    [
      'EX004 spec.approvedBy: cannot be set to "dave@example.com": dave@example.com is not in the approver groups (netguard:approvers).',
    ],
    'approval by a non-approver',
  );
  t.same(
    admit(withSpec(requested, { approvedBy: 'erin@example.com' }), {
      user: CAROL,
      operation: 'UPDATE',
      oldObject: requested,
    }).denied,
    [
      'EX004 spec.approvedBy: cannot be set to "erin@example.com": an approver signs only in their own name (carol@example.com).',
    ],
    "an approval forged in someone else's name",
  );
  const approved = admit(withSpec(requested, { approvedBy: 'carol@example.com' }), {
    user: CAROL,
    operation: 'UPDATE',
    oldObject: requested,
  });
  t.equal(approved.decision.allowed, true, 'approval by an approver');
  t.equal(
    spec(approved.mutated)['requestedBy'],
    'alice@example.com',
    'the original requester is kept',
  );
  const selfUpdate = admit(withSpec(requested, { requestedBy: 'dave@example.com' }), {
    user: DAVE,
    operation: 'UPDATE',
    oldObject: requested,
  });
  t.equal(
    spec(selfUpdate.mutated)['requestedBy'],
    'alice@example.com',
    'an UPDATE cannot change the requester',
  );
});

t.test('EX004: extending an approved waiver needs approval again', async (t) => {
  const approved = withSpec(request(), {
    requestedBy: 'alice@example.com',
    approvedBy: 'carol@example.com',
  });
  const extended = withSpec(approved, { expires: '2026-12-05T00:00:00Z' });
  const result = admit(extended, { user: ALICE, operation: 'UPDATE', oldObject: approved });
  t.equal(spec(result.mutated)['approvedBy'], undefined, 'approval removed');
  t.same(result.mutation.warnings, [
    'netguard EX004: spec.approvedBy: approval by carol@example.com removed; the waiver now asks for more, so it is pending until approved again',
  ]);
  t.equal(result.decision.allowed, true, 'the extension itself is admitted, pending');

  const widened = withSpec(approved, { rules: ['NP004', 'NP005'] });
  t.equal(
    spec(admit(widened, { user: ALICE, operation: 'UPDATE', oldObject: approved }).mutated)[
      'approvedBy'
    ],
    undefined,
    'adding a rule also needs approval',
  );
  const shortened = withSpec(approved, { expires: '2026-11-30T00:00:00Z', ticket: 'CRAWL-9' });
  t.equal(
    spec(admit(shortened, { user: ALICE, operation: 'UPDATE', oldObject: approved }).mutated)[
      'approvedBy'
    ],
    'carol@example.com',
    'shortening keeps the approval',
  );
  const byApprover = admit(extended, { user: CAROL, operation: 'UPDATE', oldObject: approved });
  t.equal(
    spec(byApprover.mutated)['approvedBy'],
    'carol@example.com',
    'the approver extending in their own name keeps it',
  );

  const ctx = contextFor({ policy, now: NOW });
  const unmutated = validate(
    inputOf(extended, { user: ALICE, operation: 'UPDATE', oldObject: approved }),
    ctx,
  );
  t.match(
    unmutated.message,
    'EX004 exception-approval at spec.approvedBy: still says "carol@example.com" but the waiver now asks for more than was approved',
    'without the mutating webhook the kept approval is denied',
  );
});
