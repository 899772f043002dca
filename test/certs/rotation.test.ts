import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { parseAllDocuments } from 'yaml';
import { serve } from '../../src/cli/serve.ts';
import { startCertRotation, type ManagedIdentity } from '../../src/certs/rotation.ts';
import { kubeRest } from '../../src/kube/rest.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.ts';

const SECRETS = '/api/v1/secrets';
const VALIDATING = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MUTATING = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const IDENTITY: ManagedIdentity = {
  namespace: 'netguard-system',
  secret: 'netguard-tls',
  service: 'netguard',
  webhookConfiguration: 'netguard',
};
const NOW = new Date('2026-11-22T12:00:00Z');
const DAY = 86_400_000;
const logger = pino({ level: process.env['LOG'] ?? 'silent' });

/** The cluster as `kubectl apply -k deploy/` leaves it: the empty Secret and webhooks without caBundle. */
async function installed(t: Test): Promise<FakeKubeApi> {
  const api = await startFakeKubeApi(t);
  api.seed(SECRETS, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'netguard-tls', namespace: 'netguard-system' },
    type: 'Opaque',
  });
  for (const doc of parseAllDocuments(readFileSync('deploy/base/webhooks.yaml', 'utf8'))) {
    const object = doc.toJS() as { kind: string };
    api.seed(object.kind === 'ValidatingWebhookConfiguration' ? VALIDATING : MUTATING, object);
  }
  return api;
}

const data = (api: FakeKubeApi, key: string): string =>
  Buffer.from(
    String(api.get(SECRETS, 'netguard-system', 'netguard-tls')?.['data']?.[key] ?? ''),
    'base64',
  ).toString('utf8');
const bundles = (api: FakeKubeApi): string[] =>
  [VALIDATING, MUTATING].flatMap((c) =>
    (api.get(c, undefined, 'netguard')?.['webhooks'] ?? []).map(
      (w: { clientConfig: { caBundle?: string } }) => w.clientConfig.caBundle ?? '',
    ),
  );
const secretWrites = (api: FakeKubeApi) => api.writes().filter((w) => w.path.includes('/secrets/'));

t.test(
  'first start: CA and serving pair into the shipped Secret, caBundle into every webhook',
  async (t) => {
    const api = await installed(t);
    const rotation = await startCertRotation({
      rest: kubeRest(api.kubeConfig()),
      identity: IDENTITY,
      logger,
      onRenewed: () => undefined,
      now: () => NOW,
    });
    t.teardown(() => rotation.stop());
    const ca = new X509Certificate(data(api, 'ca.crt'));
    const leaf = new X509Certificate(data(api, 'tls.crt'));
    t.ok(leaf.verify(ca.publicKey), 'serving certificate signed by the CA');
    t.equal(
      leaf.subjectAltName,
      'DNS:netguard, DNS:netguard.netguard-system, DNS:netguard.netguard-system.svc, DNS:netguard.netguard-system.svc.cluster.local',
    );
    t.equal(rotation.current().cert, data(api, 'tls.crt'));
    const all = bundles(api);
    t.ok(all.length >= 3, 'every webhook of both configurations');
    t.ok(
      all.every((b) => b === Buffer.from(data(api, 'ca.crt')).toString('base64')),
      'caBundle is the CA',
    );
    t.equal(secretWrites(api).length, 1);

    // A second replica adopts what the first wrote: no second CA.
    const other = await startCertRotation({
      rest: kubeRest(api.kubeConfig()),
      identity: IDENTITY,
      logger,
      onRenewed: () => undefined,
      now: () => NOW,
    });
    t.teardown(() => other.stop());
    t.equal(other.current().cert, rotation.current().cert);
    t.equal(secretWrites(api).length, 1, 'nothing rewritten');

    // `kubectl apply -k deploy/` again resets caBundle: the next check puts it back.
    const reset = structuredClone(api.get(VALIDATING, undefined, 'netguard'));
    for (const hook of reset?.['webhooks'] ?? []) delete hook.clientConfig.caBundle;
    api.emit(VALIDATING, 'MODIFIED', reset ?? {});
    await rotation.recheck();
    t.ok(
      bundles(api).every((b) => b !== ''),
      're-injected',
    );
  },
);

t.test(
  'renewal 90 days before expiry: serving pair under the same CA, then the CA with both CAs trusted',
  async (t) => {
    const api = await installed(t);
    let now = NOW;
    const renewed: string[] = [];
    const rotation = await startCertRotation({
      rest: kubeRest(api.kubeConfig()),
      identity: IDENTITY,
      logger,
      onRenewed: (pair) => renewed.push(pair.cert),
      now: () => now,
    });
    t.teardown(() => rotation.stop());
    const firstCa = data(api, 'ca.crt');
    const firstLeaf = data(api, 'tls.crt');
    now = new Date(NOW.getTime() + 200 * DAY);
    await rotation.recheck();
    t.same(renewed, [], 'more than 90 days left: nothing renewed');
    now = new Date(NOW.getTime() + 300 * DAY);
    await rotation.recheck();
    t.equal(renewed.length, 1, 'the server is handed the new pair');
    t.not(data(api, 'tls.crt'), firstLeaf);
    t.equal(data(api, 'ca.crt'), firstCa, 'same CA');

    now = new Date(NOW.getTime() + 3600 * DAY);
    await rotation.recheck();
    t.not(data(api, 'ca.crt'), firstCa, 'the CA is renewed before it expires');
    const bundle = Buffer.from(bundles(api)[0] ?? '', 'base64').toString('utf8');
    t.equal(
      bundle.match(/BEGIN CERTIFICATE/g)?.length,
      2,
      'caBundle trusts the new and the old CA during the change',
    );
    t.ok(bundle.includes(firstCa.trim()));
  },
);

t.test('a write race: the replica that loses adopts the winner', async (t) => {
  const api = await installed(t);
  api.failNext('PUT', /\/secrets\/netguard-tls$/, 409, 'Conflict');
  const rotation = await startCertRotation({
    rest: kubeRest(api.kubeConfig()),
    identity: IDENTITY,
    logger,
    onRenewed: () => undefined,
    now: () => NOW,
  });
  t.teardown(() => rotation.stop());
  t.equal(rotation.current().cert, data(api, 'tls.crt'));
});

t.test(
  'serve --certs-secret: listens with the managed pair; the API server name verifies against the injected CA',
  async (t) => {
    const api = await installed(t);
    process.env['POD_NAMESPACE'] = 'netguard-system';
    t.teardown(() => delete process.env['POD_NAMESPACE']);
    const running = await serve({
      config: 'policies/guardrails.yaml',
      exceptions: 'policies/exceptions.yaml',
      port: 0,
      metricsPort: 0,
      host: '127.0.0.1',
      certs: 'certs-unused',
      kubeconfig: api.kubeconfigPath,
      certsSecret: 'netguard-tls',
      logLevel: 'silent',
      drainSeconds: 0,
    });
    t.teardown(() => running.close());
    const port = Number(new URL(running.url).port);
    const ca = Buffer.from(bundles(api)[0] ?? '', 'base64').toString('utf8');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/healthz',
          ca,
          servername: 'netguard.netguard-system.svc',
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    t.equal(status, 200);
  },
);

t.test('serve --certs-secret without a cluster is a usage error', async (t) => {
  const saved = process.env['KUBERNETES_SERVICE_HOST'];
  delete process.env['KUBERNETES_SERVICE_HOST'];
  t.teardown(() =>
    saved === undefined ? undefined : (process.env['KUBERNETES_SERVICE_HOST'] = saved),
  );
  await t.rejects(
    serve({
      config: 'policies/guardrails.yaml',
      exceptions: 'policies/exceptions.yaml',
      port: 0,
      metricsPort: 0,
      host: '127.0.0.1',
      certs: 'certs',
      certsSecret: 'netguard-tls',
      logLevel: 'silent',
    }),
    {
      name: 'UsageError',
      message: '--certs-secret needs a cluster: run in one, or pass --kubeconfig',
    },
  );
});
