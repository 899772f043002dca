import { GUARDRAILS_BY_ID } from '../../src/rules/guardrails.ts';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { startExceptionCache, EXCEPTIONS_PATH } from '../../src/kube/exception-source.ts';
import { GUARDRAIL_EXCEPTION_SOURCE } from '../../src/exceptions/object-source.ts';
import {
  ExceptionFileError,
  loadExceptionFile,
  parseExceptionFile,
} from '../../src/exceptions/file-source.ts';
import { startWorld } from '../../src/live-world.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { loadFixture } from '../helpers/reviews.ts';
import { until } from '../helpers/until.ts';

const FIXTURES = 'test/fixtures/exceptions';
const silent = pino({ level: 'silent' });
const names = (waivers: readonly { namespace: string; name: string }[]): string[] =>
  waivers.map((w) => `${w.namespace}/${w.name}`).sort();

t.test('the exceptions file: parse errors name the file, document and field', async (t) => {
  t.throws(
    () => loadExceptionFile(`${FIXTURES}/broken.yaml`, GUARDRAILS_BY_ID),
    new ExceptionFileError(
      `${FIXTURES}/broken.yaml: document 1: spec.expires: required: every waiver expires`,
    ),
  );
  const unknownRule = parseExceptionFile(
    'apiVersion: netguard.dev/v1alpha1\nkind: GuardrailException\nmetadata: {name: a, namespace: b}\nspec: {rules: [NP999], target: {kind: NetworkPolicy, name: x}, reason: r, owner: o, expires: "2026-12-01T00:00:00Z"}\n',
    'x.yaml',
    GUARDRAILS_BY_ID,
  );
  t.match(
    unknownRule.waivers[0]?.rejected,
    [
      'EX003 spec.rules[0]: "NP999" is not a netguard rule ID, so the waiver cannot say what it waives.',
    ],
    'an unknown rule ID rejects that waiver (listed, waives nothing), not the whole file',
  );
  t.throws(() => parseExceptionFile('a: [', 'x.yaml', GUARDRAILS_BY_ID), {
    message: /^x\.yaml: document 1: not valid YAML/,
  });
  t.same(
    parseExceptionFile('', 'empty.yaml', GUARDRAILS_BY_ID).waivers,
    [],
    'an empty file holds no waivers',
  );
  t.same(
    loadExceptionFile(join(tmpdir(), 'netguard-no-such-file.yaml'), GUARDRAILS_BY_ID).waivers,
    [],
    'a missing file at start-up means no file waivers',
  );
  t.same(
    names(loadExceptionFile('policies/exceptions.yaml', GUARDRAILS_BY_ID).waivers),
    [],
    'the shipped file parses and holds no live waiver',
  );
  t.same(names(loadExceptionFile(`${FIXTURES}/crawler-egress.yaml`, GUARDRAILS_BY_ID).waivers), [
    'prod-crawl/crawler-egress',
  ]);
});

t.test(
  'the watched file: reload, a broken reload keeps the last good set, a deleted file waives nothing',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'netguard-exceptions-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'exceptions.yaml');
    copyFileSync(`${FIXTURES}/crawler-egress.yaml`, file);
    const reloads: string[] = [];
    const live = startWorld({
      config: 'policies/guardrails.yaml',
      exceptions: file,
      logger: silent,
      onReload: (_file, result) => reloads.push(result),
    });
    t.teardown(() => live.close());
    t.same(names(live.registry.all()), ['prod-crawl/crawler-egress']);
    t.same(live.notReady(), [], 'without a cluster, ready at once');

    writeFileSync(file, readFileSync(`${FIXTURES}/waivers.yaml`));
    await until(() => reloads.length >= 1, 'the reload after a write');
    t.same(names(live.registry.all()), [
      'netguard-system/legacy-batch-baseline',
      'prod-crawl/crawler-egress',
      'prod-crawl/crawler-labels',
    ]);

    const before = reloads.length;
    writeFileSync(file, readFileSync(`${FIXTURES}/broken.yaml`));
    await until(() => reloads.length > before, 'the broken reload');
    t.equal(reloads.at(-1), 'failure');
    t.equal(live.registry.all().length, 3, 'the broken file kept the last good set');

    const beforeDelete = reloads.length;
    rmSync(file);
    await until(() => reloads.length > beforeDelete, 'the reload after the delete');
    t.equal(reloads.at(-1), 'success');
    t.equal(
      live.registry.all().length,
      0,
      'a deleted file is an empty file, as at start (test/exceptions/deleted-file.test.ts)',
    );
  },
);

t.test(
  'the CRD cache against the fake API server: list, ADDED, MODIFIED, DELETED, 410 Gone relist',
  async (t) => {
    const api = await startFakeKubeApi(t);
    const [old, pending] = loadFixture(`${FIXTURES}/cluster-waivers.yaml`);
    if (old === undefined || pending === undefined) throw new Error('fixture');
    api.seed(EXCEPTIONS_PATH, old);
    api.failNext('GET', /guardrailexceptions$/, 500, 'InternalError');
    const delays: number[] = [];
    const cache = startExceptionCache({
      source: GUARDRAIL_EXCEPTION_SOURCE,
      guardrails: GUARDRAILS_BY_ID,
      kubeConfig: api.kubeConfig(),
      logger: silent,
      delay: async (ms) => void delays.push(ms),
    });
    t.teardown(() => cache.stop());
    await until(() => cache.ready(), 'first sync');
    t.same(delays, [1000], 'the failed list was retried after the initial backoff');
    t.same(names(cache.current().waivers), ['prod-crawl/old-egress']);
    t.equal(cache.current().inNamespace('prod-crawl')[0]?.source.name, 'cluster');

    await api.watching(EXCEPTIONS_PATH);
    api.emit(EXCEPTIONS_PATH, 'ADDED', pending);
    await until(() => cache.current().waivers.length === 2, 'ADDED');
    t.equal(
      cache
        .current()
        .inNamespace('prod-crawl')
        .find((w) => w.name === 'new-egress')?.approved,
      false,
      'pending until approved',
    );

    api.emit(EXCEPTIONS_PATH, 'MODIFIED', {
      ...pending,
      spec: { ...(pending['spec'] as object), approvedBy: 'carol@example.com' },
    });
    await until(
      () =>
        cache
          .current()
          .inNamespace('prod-crawl')
          .find((w) => w.name === 'new-egress')?.approved === true,
      'MODIFIED',
    );

    api.emit(EXCEPTIONS_PATH, 'DELETED', old);
    await until(() => cache.current().waivers.length === 1, 'DELETED');
    t.same(names(cache.current().waivers), ['prod-crawl/new-egress']);

    api.seed(EXCEPTIONS_PATH, { ...old, metadata: { name: 'relisted', namespace: 'prod-crawl' } });
    api.expireWatches(EXCEPTIONS_PATH);
    await until(() => cache.current().waivers.length === 2, 'relist after 410 Gone');
    t.same(names(cache.current().waivers), ['prod-crawl/new-egress', 'prod-crawl/relisted']);
    t.ok(cache.ready(), 'still ready after the relist');
  },
);

t.test("serve's registry waits for the CRD cache in /readyz and merges both sources", async (t) => {
  const api = await startFakeKubeApi(t);
  const [old] = loadFixture(`${FIXTURES}/cluster-waivers.yaml`);
  if (old === undefined) throw new Error('fixture');
  api.seed(EXCEPTIONS_PATH, old);
  api.failNext('GET', /guardrailexceptions$/, 503, 'ServiceUnavailable');
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const live = startWorld({
    config: 'policies/guardrails.yaml',
    exceptions: `${FIXTURES}/crawler-egress.yaml`,
    logger: silent,
    kubeConfig: api.kubeConfig(),
    delay: () => held,
  });
  t.teardown(() => live.close());
  await until(() => api.requests.some((r) => r.path === EXCEPTIONS_PATH), 'the first list');
  t.ok(
    live.notReady().includes('guardrailexceptions cache not synced'),
    'not ready while the first list has failed',
  );
  release();
  await until(() => live.notReady().length === 0, 'ready');
  t.same(names(live.registry.all()), ['prod-crawl/crawler-egress', 'prod-crawl/old-egress']);
});
