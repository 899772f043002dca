import { pino } from 'pino';
import t from 'tap';
import type { AuditLog } from '../../src/server/app.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { injectableApp } from '../helpers/app.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';

const inNamespace = (object: KubeObject, namespace: string): KubeObject => ({
  ...object,
  metadata: { ...(object['metadata'] as object), namespace },
});
const clean = inNamespace(loadOne('test/fixtures/workloads/deployment-labelled.yaml'), 'prod-shop');
const denied = inNamespace(
  loadOne('test/fixtures/workloads/deployment-missing-tier.yaml'),
  'prod-shop',
);
const warned = inNamespace(
  loadOne('test/fixtures/workloads/deployment-missing-tier.yaml'),
  'dev-shop',
);
const namespace: KubeObject = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'prod-new', labels: { 'kubernetes.io/metadata.name': 'prod-new' } },
};
const other: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cm', namespace: 'prod-shop' },
};

/** Sends one review of each sort and returns the audit lines the app wrote, by uid. */
async function auditedUids(
  auditLog: AuditLog | undefined,
): Promise<Map<string, Record<string, unknown>>> {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const app = injectableApp({ logger, ...(auditLog === undefined ? {} : { auditLog }) });
  try {
    const send = async (uid: string, path: string, object: KubeObject) => {
      const reply = await app.inject({
        method: 'POST',
        url: path,
        payload: reviewFor(object, { uid }),
      });
      if (reply.statusCode !== 200) throw new Error(`${uid}: HTTP ${reply.statusCode}`);
    };
    await send('clean', '/validate', clean);
    await send('denied', '/validate', denied);
    await send('warned', '/validate', warned);
    await send('patched', '/mutate', namespace);
    await send('untouched', '/mutate', other);
  } finally {
    await app.close();
  }
  return new Map(
    lines.filter((line) => line['audit'] === true).map((line) => [String(line['uid']), line]),
  );
}

t.test('--audit-log decides which decisions get an audit line', async (t) => {
  t.same(
    [...(await auditedUids('all')).keys()],
    ['clean', 'denied', 'warned', 'patched', 'untouched'],
    'all: every decision',
  );
  t.same(
    [...(await auditedUids('findings')).keys()],
    ['denied', 'warned', 'patched'],
    'findings: denials, findings, patches and warnings',
  );
  t.same(
    [...(await auditedUids(undefined)).keys()],
    ['denied', 'warned', 'patched'],
    'the default is findings',
  );
  t.same([...(await auditedUids('denied')).keys()], ['denied'], 'denied: denials only');
  t.same([...(await auditedUids('none')).keys()], [], 'none: no audit line');
});

t.test(
  'an audit line says who did what to which object, and the verdict with its rules',
  async (t) => {
    const lines = await auditedUids('all');
    t.match(lines.get('denied'), {
      msg: 'admission decision',
      webhook: 'validate',
      user: 'kubernetes-admin',
      kind: 'Deployment',
      namespace: 'prod-shop',
      object: 'shop-web',
      operation: 'CREATE',
      dryRun: false,
      environment: 'production',
      mode: 'enforce',
      verdict: 'denied',
      rules: ['POD001:deny'],
    });
    t.match(lines.get('warned'), { verdict: 'allowed', mode: 'observe', rules: ['POD001:warn'] });
    t.match(lines.get('patched'), { webhook: 'mutate', kind: 'Namespace', changed: true });
    t.equal(typeof lines.get('clean')?.['us'], 'number', 'time spent, in microseconds');
  },
);
