/** The parts of the unblock path one at a time (the walk itself is unblock-path.test.ts). */
import { pino } from 'pino';
import t from 'tap';
import { validate } from '../../src/engine/evaluate.ts';
import { decodeReview } from '../../src/admission/decode.ts';
import { candidateName, nameStem } from '../../src/kube/exception-writes.ts';
import { startExpiryEvents } from '../../src/kube/expiry-events.ts';
import { createRegistry, waiverSet } from '../../src/exceptions/registry.ts';
import { guardrailExceptionSchema } from '../../src/model/guardrail-exception.ts';
import { toWaiver, type Waiver } from '../../src/exceptions/waiver.ts';
import { FILE_SOURCE } from '../../src/exceptions/file-source.ts';
import { GUARDRAIL_EXCEPTION_SOURCE } from '../../src/exceptions/object-source.ts';
import { kubeRest } from '../../src/kube/rest.ts';
import { createMetrics } from '../../src/metrics.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { contextFor, shippedPolicy } from '../helpers/context.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { loadOne, reviewFor, type ReviewOptions } from '../helpers/reviews.ts';

const policy = shippedPolicy();
const logger = pino({ level: 'silent' });

function judge(object: KubeObject, options: ReviewOptions, waivers: readonly Waiver[], now: Date) {
  const decoded = decodeReview(reviewFor(object, options));
  if (!decoded.ok) throw new Error(decoded.problems.join('\n'));
  return validate(
    decoded.input,
    contextFor({
      policy,
      now,
      waivers: createRegistry([() => waiverSet(waivers)]).view(policy.exceptions.warnBeforeMs),
    }),
  );
}

function waiver(
  spec: Record<string, unknown>,
  source: 'file' | 'cluster' = 'cluster',
  name = 'pod001-web',
): Waiver {
  const base = {
    rules: ['POD001'],
    target: { kind: 'Deployment', name: 'web' },
    reason: 'chart 2.0',
    owner: 'team-shop@example.com',
    expires: '2026-12-06T09:00:00Z',
  };
  const parsed = guardrailExceptionSchema.parse({
    apiVersion: 'netguard.dev/v1alpha1',
    kind: 'GuardrailException',
    metadata: { name, namespace: 'prod-shop', uid: `uid-${name}` },
    spec: { ...base, ...spec },
  });
  return toWaiver(parsed, source === 'file' ? FILE_SOURCE : GUARDRAIL_EXCEPTION_SOURCE);
}

t.test('a generateName Pod is waived by its labels, never by the prefix', async (t) => {
  const decision = judge(
    loadOne('test/fixtures/exceptions/unblock/debug-pod.yaml'),
    {},
    [],
    new Date('2026-11-22T09:00:00Z'),
  );
  t.equal(decision.allowed, false);
  t.equal(
    decision.message?.split('\n').at(-1),
    'Need more time? netguard exception request -n prod-shop --rule POD003 --target pod --selector app=debug,tier=backend --expires 14d --reason "<why this is needed>" --apply',
  );
});

t.test('a denied waiver ends with its fix, never with a request to waive EX rules', async (t) => {
  const tooLong = loadOne(
    'test/fixtures/exceptions/request.yaml',
    new Date('2026-11-22T00:00:00Z'),
  );
  (tooLong['spec'] as Record<string, unknown>)['expires'] = '2099-01-01T00:00:00Z';
  const decision = judge(
    tooLong,
    { user: { username: 'alice@example.com' } },
    [],
    new Date('2026-11-22T00:00:00Z'),
  );
  t.equal(decision.allowed, false);
  const lines = decision.message?.split('\n') ?? [];
  t.match(
    lines[1],
    /^- EX001 exception-expiry at spec\.expires: .* Choose a date sooner; environment production allows at most 14d\.$/,
  );
  t.equal(
    lines.at(-1),
    'EX rules guard the waivers themselves and cannot be waived: fix the fields above.',
  );
  t.notMatch(decision.message ?? '', /exception request/);
});

t.test(
  'expiry ends grandfathering: an UPDATE keeping a formerly waived violation is new',
  async (t) => {
    const web = loadOne('test/fixtures/exceptions/unblock/web.yaml');
    const update = { operation: 'UPDATE' as const, oldObject: web };
    const before = judge(
      web,
      update,
      [waiver({ approvedBy: 'carol@example.com', requestedBy: 'alice@example.com' })],
      new Date('2026-12-01T00:00:00Z'),
    );
    t.equal(before.allowed, true, 'waived while it lasts');
    const after = judge(
      web,
      update,
      [waiver({ approvedBy: 'carol@example.com', requestedBy: 'alice@example.com' })],
      new Date('2026-12-06T09:00:00Z'),
    );
    t.equal(after.allowed, false, 'the expiry instant itself is expired');
    t.notMatch(after.message ?? '', /pre-existing/);
    const never = judge(web, update, [], new Date('2026-12-06T09:00:00Z'));
    t.equal(
      never.allowed,
      true,
      'without a waiver that lapsed, an old violation stays pre-existing',
    );
    t.match(never.warnings[0] ?? '', /pre-existing/);
    const pendingOnly = judge(
      web,
      update,
      [waiver({ requestedBy: 'alice@example.com', expires: '2026-12-01T00:00:00Z' })],
      new Date('2026-12-06T09:00:00Z'),
    );
    t.equal(
      pendingOnly.allowed,
      true,
      'a waiver that was never approved never waived anything, so nothing came due',
    );
    const file = judge(web, update, [waiver({}, 'file')], new Date('2026-12-07T00:00:00Z'));
    t.equal(
      file.message?.split('\n').at(-1),
      'Waiver prod-shop/pod001-web expired on 2026-12-06T09:00:00Z; the guardrail applies again, to updates too. Still needed? Extend its spec.expires in the exceptions file, by a reviewed change.',
    );
    const renewal = waiver(
      { requestedBy: 'alice@example.com', renews: 'pod001-web', expires: '2026-12-20T09:00:00Z' },
      'cluster',
      'pod001-web-2',
    );
    const waiting = judge(
      web,
      update,
      [waiver({ approvedBy: 'carol@example.com', requestedBy: 'alice@example.com' }), renewal],
      new Date('2026-12-07T00:00:00Z'),
    );
    t.equal(waiting.allowed, false);
    t.equal(
      waiting.message?.split('\n').at(-1),
      'Waiver prod-shop/pod001-web-2 is pending: it waives nothing until a member of the approver groups runs netguard exception approve -n prod-shop pod001-web-2',
    );
  },
);

t.test(
  'free names: base, base-2, ... within 63 characters; renewals start from the stem',
  async (t) => {
    t.equal(candidateName('pod001-web', 1), 'pod001-web');
    t.equal(candidateName('pod001-web', 3), 'pod001-web-3');
    const long = `np004-${'x'.repeat(57)}`;
    t.equal(candidateName(long, 12).length, 63);
    t.match(candidateName(long, 12), /x-12$/);
    t.equal(nameStem('pod001-web-3'), 'pod001-web');
    t.equal(nameStem('pod001-web'), 'pod001-web');
  },
);

t.test('the expiry metric: approved waivers only, per rule, gone with the waiver', async (t) => {
  let waivers: Waiver[] = [
    waiver({
      approvedBy: 'carol@example.com',
      requestedBy: 'alice@example.com',
      rules: ['POD001', 'POD002'],
    }),
    waiver({ requestedBy: 'alice@example.com' }, 'cluster', 'pending-one'),
  ];
  const metrics = createMetrics({ processMetrics: false, waivers: () => waivers });
  const series = async (): Promise<string[]> =>
    (await metrics.registry.metrics())
      .split('\n')
      .filter((line) => line.startsWith('netguard_exception_expiry_timestamp_seconds{'));
  t.same(await series(), [
    'netguard_exception_expiry_timestamp_seconds{namespace="prod-shop",name="pod001-web",rule="POD001"} 1796547600',
    'netguard_exception_expiry_timestamp_seconds{namespace="prod-shop",name="pod001-web",rule="POD002"} 1796547600',
  ]);
  waivers = [];
  t.same(await series(), [], 'a deleted waiver leaves no stale series');
});

t.test(
  'expiry Events: once per stage, file waivers on their target only, pending ones never, idempotent across restarts',
  async (t) => {
    const api = await startFakeKubeApi(t);
    api.seed('/apis/apps/v1/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'prod-shop', uid: 'uid-web' },
    });
    const waivers = [
      waiver({}, 'file', 'from-file'),
      waiver({ requestedBy: 'alice@example.com' }, 'cluster', 'pending-one'),
      waiver(
        {
          approvedBy: 'carol@example.com',
          requestedBy: 'alice@example.com',
          target: { kind: 'Deployment', name: 'gone' },
        },
        'cluster',
        'no-target',
      ),
    ];
    let now = new Date('2026-11-20T00:00:00Z');
    const start = () =>
      startExpiryEvents({
        rest: kubeRest(api.kubeConfig()),
        waivers: () => waivers,
        warnBeforeMs: () => policy.exceptions.warnBeforeMs,
        now: () => now,
        logger,
        intervalMs: 0,
      });
    const first = start();
    t.same(await first.tick(), [], 'nothing due 16 days before');
    now = new Date('2026-11-30T00:00:00Z');
    const due = await first.tick();
    t.same(
      due.map(
        (e) =>
          `${(e['involvedObject'] as KubeObject)['kind']}/${(e['involvedObject'] as KubeObject)['name']} ${e['reason']}`,
      ),
      ['Deployment/web WaiverExpiring', 'GuardrailException/no-target WaiverExpiring'],
    );
    t.same(await first.tick(), []);
    const restarted = start();
    t.same(
      await restarted.tick(),
      [],
      'a restart finds the Events already there (409) and says nothing twice',
    );
    t.equal(api.list('/api/v1/events').length, 2);
    now = new Date('2026-12-06T09:00:00Z');
    t.same(
      (await restarted.tick()).map((e) => e['reason']),
      ['WaiverExpired', 'WaiverExpired'],
    );
  },
);
