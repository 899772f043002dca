import { Writable } from 'node:stream';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { SKIPS } from '../../src/engine/skips.ts';
import type { DecisionRecord } from '../../src/server/app.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { loadWorld } from '../../src/world.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';

// The waivers fixture's clock (its expiries are fixed dates: see its header).
const NOW = new Date('2026-11-22T00:00:00Z');
const CONTROLLER = 'system:serviceaccount:netguard-system:netguard-controller';

/** The real HTTPS app with every decision audited; returns its audit lines and records by uid. */
async function auditedWebhook(t: Test) {
  const lines = new Map<string, Record<string, unknown>>();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text === '') continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        if (line['audit'] === true) lines.set(String(line['uid']), line);
      }
      done();
    },
  });
  const records = new Map<string, DecisionRecord>();
  const world = loadWorld({
    config: 'policies/guardrails.yaml',
    exceptions: 'test/fixtures/exceptions/waivers.yaml',
  });
  const webhook = await startWebhook(t, {
    context: () => world.context(NOW),
    deps: {
      logger: pino({ level: 'info' }, sink),
      auditLog: 'all',
      onDecision: (record) => records.set(record.input.uid, record),
    },
  });
  /** POSTs one review; the reply's response, its audit line and the recorded decision. */
  const send = async (path: '/validate' | '/mutate', review: ReturnType<typeof reviewFor>) => {
    const response = (await webhook.post(path, review)).json().response;
    const uid = review.request.uid;
    return { response, line: lines.get(uid), record: records.get(uid) };
  };
  return send;
}

const pod = (namespace: string): KubeObject => {
  const object = loadOne('test/fixtures/workloads/pod-bare.yaml');
  return { ...object, metadata: { ...(object['metadata'] as object), namespace } };
};

const baselinePolicy: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: {
    name: 'netguard-default-deny',
    namespace: 'prod-shop',
    labels: { 'app.kubernetes.io/managed-by': 'netguard' },
  },
  // A default-deny of everything: ingress without ports would be NP008 from anyone else.
  spec: {
    podSelector: {},
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ podSelector: {} }] }],
  },
};

const waiver: KubeObject = {
  apiVersion: 'netguard.dev/v1alpha1',
  kind: 'GuardrailException',
  metadata: { name: 'shop-egress', namespace: 'prod-shop' },
  spec: {
    rules: ['NP004'],
    target: { kind: 'NetworkPolicy', name: 'shop-egress' },
    reason: 'The payment provider publishes no fixed addresses',
    owner: 'team-shop@example.com',
    expires: new Date(NOW.getTime() + 9 * 86_400_000).toISOString(),
  },
};

t.test('every skip reason is on the decision and in the audit line', async (t) => {
  const send = await auditedWebhook(t);
  const subresource = reviewFor(pod('prod-shop'), {
    operation: 'UPDATE',
    oldObject: pod('prod-shop'),
  });
  Object.assign(subresource.request, { subResource: 'status' });
  const cases = [
    { reason: 'subresource', path: '/validate', review: subresource, environment: undefined },
    {
      reason: 'excluded-namespace',
      path: '/validate',
      review: reviewFor(pod('kube-system')),
      environment: undefined,
    },
    {
      reason: 'controller-written',
      path: '/validate',
      review: reviewFor(baselinePolicy, { user: { username: CONTROLLER } }),
      environment: 'production',
    },
    {
      reason: 'exception-bookkeeping',
      path: '/mutate',
      review: reviewFor(waiver, { user: { username: 'alice@example.com' } }),
      environment: 'production',
    },
  ] as const;
  t.same(
    cases.map((each) => each.reason),
    SKIPS.map((skip) => skip.reason),
    'one case per skip, in the list’s order (a new skip needs a case here)',
  );
  for (const { reason, path, review, environment } of cases) {
    const { response, line, record } = await send(path, review);
    t.equal(response.allowed, true, `${reason}: admitted`);
    t.equal(record?.decision.skipped, reason, `${reason}: on the decision`);
    t.equal(record?.webhook, path.slice(1));
    t.equal(line?.['skipped'], reason, `${reason}: in the audit line`);
    t.equal(line?.['verdict'], 'allowed');
    t.equal(line?.['environment'], environment, `${reason}: environment named only when placed`);
    t.same(line?.['rules'], [], `${reason}: no rule judged it`);
  }
  // The bookkeeping still patches: the waiver records who asked for it.
  const bookkeeping = await send(
    '/mutate',
    reviewFor(waiver, { user: { username: 'alice@example.com' } }),
  );
  t.equal(bookkeeping.line?.['changed'], true, 'the bookkeeping patch is recorded as a change');
  t.same(JSON.parse(Buffer.from(String(bookkeeping.response.patch), 'base64').toString('utf8')), [
    { op: 'add', path: '/spec/requestedBy', value: 'alice@example.com' },
  ]);
  // The same baseline policy from anyone else is judged, not skipped.
  const judged = await send('/validate', reviewFor(baselinePolicy));
  t.equal(judged.record?.decision.skipped, undefined);
  t.equal(judged.line?.['skipped'], undefined);
  t.equal(judged.response.allowed, false, 'NP011: only the controller writes a baseline policy');
  t.ok((judged.line?.['rules'] as string[]).includes('NP011:deny'));
});

t.test(
  '/mutate records what it decided: environment, mode, the change, a withheld change',
  async (t) => {
    const send = await auditedWebhook(t);
    const namespace = (name: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    });
    const patched = await send('/mutate', reviewFor(namespace('prod-new')));
    t.ok(patched.response.patch, 'the reply patches the namespace');
    t.match(patched.line, {
      webhook: 'mutate',
      object: 'prod-new',
      environment: 'production',
      mode: 'enforce',
      verdict: 'allowed',
      changed: true,
      rules: [],
      waivedBy: [],
    });
    t.equal(patched.record?.decision.patch?.length, 1, 'the decision holds the patch it returned');

    // legacy-batch-baseline (the fixture) waives NS001 for this namespace: no patch, a warning.
    const withheld = await send('/mutate', reviewFor(namespace('legacy-batch')));
    t.equal(withheld.response.patch, undefined, 'the change is withheld');
    t.match(withheld.response.warnings, [/NS001: .*withheld.*legacy-batch-baseline/]);
    t.match(withheld.line, {
      webhook: 'mutate',
      object: 'legacy-batch',
      verdict: 'allowed',
      changed: true,
      rules: ['NS001:warn'],
      waivedBy: ['NS001:netguard-system/legacy-batch-baseline'],
    });
    t.type(withheld.line?.['mode'], 'string', 'the mode it was placed in');
    t.same(withheld.record?.decision.patch, []);

    // A kind no mutating rule changes: judged, nothing to do, still on record.
    const untouched = await send('/mutate', reviewFor(pod('prod-shop')));
    t.match(untouched.line, { webhook: 'mutate', changed: false, rules: [], mode: 'enforce' });
    t.equal(untouched.line?.['skipped'], undefined);
  },
);
