import { X509Certificate } from 'node:crypto';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { runCerts } from '../../src/cli/certs.ts';
import { CA_LIFETIME_DAYS, SERVING_LIFETIME_DAYS } from '../../src/certs/generate.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';

const VALIDATING = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MUTATING = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const base = {
  service: 'netguard',
  namespace: 'netguard-system',
  secretName: 'netguard-tls',
  webhookConfiguration: 'netguard',
};
const now = new Date('2026-11-22T12:00:00Z');

t.test('certs --out writes a CA and a serving pair for every Service DNS name', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'netguard-certs-'));
  const result = await runCerts({ ...base, out }, now);
  const ca = new X509Certificate(readFileSync(join(out, 'ca.crt')));
  const leaf = new X509Certificate(readFileSync(join(out, 'tls.crt')));
  t.ok(leaf.verify(ca.publicKey), 'the leaf is signed by the CA');
  t.ok(ca.ca && !leaf.ca);
  t.equal(
    leaf.subjectAltName,
    'DNS:netguard, DNS:netguard.netguard-system, DNS:netguard.netguard-system.svc, DNS:netguard.netguard-system.svc.cluster.local',
  );
  t.same(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'serverAuth');
  const days = (cert: X509Certificate) =>
    Math.round((Date.parse(cert.validTo) - now.getTime()) / 86_400_000);
  t.same([days(ca), days(leaf)], [CA_LIFETIME_DAYS, SERVING_LIFETIME_DAYS]);
  t.equal(statSync(join(out, 'tls.key')).mode & 0o777, 0o600);
  t.equal(statSync(join(out, 'ca.key')).mode & 0o777, 0o600);
  t.equal(
    result.stdout,
    `${Buffer.from(readFileSync(join(out, 'ca.crt'))).toString('base64')}\n`,
    'stdout is the caBundle',
  );
  const other = await runCerts(base, now);
  t.not(
    new X509Certificate(other.certificates.serving.cert).serialNumber,
    leaf.serialNumber,
    'random serials',
  );
});

t.test(
  'certs --out writes keys 0600 even over existing files with looser permissions',
  async (t) => {
    const out = mkdtempSync(join(tmpdir(), 'netguard-certs-'));
    for (const file of ['tls.key', 'ca.key'])
      writeFileSync(join(out, file), 'old key\n', { mode: 0o644 });
    chmodSync(join(out, 'tls.key'), 0o666);
    t.equal(statSync(join(out, 'tls.key')).mode & 0o777, 0o666, 'the old key was world-readable');
    const result = await runCerts({ ...base, out }, now);
    for (const file of ['tls.key', 'ca.key'])
      t.equal(statSync(join(out, file)).mode & 0o777, 0o600, `${file} is 0600`);
    t.equal(
      readFileSync(join(out, 'tls.key'), 'utf8'),
      result.certificates.serving.key,
      'the new key replaced the old one',
    );
    t.same(
      readdirSync(out).sort(),
      ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'],
      'no temporary files left behind',
    );
  },
);

t.test(
  'certs --secret prints an applicable kubernetes.io/tls Secret with the caBundle as a comment',
  async (t) => {
    const result = await runCerts({ ...base, secret: true }, now);
    const [first] = result.stdout.split('\n');
    t.equal(first, `# caBundle: ${result.certificates.caBundle}`);
    const secret = parse(result.stdout);
    t.same(
      {
        kind: secret.kind,
        type: secret.type,
        name: secret.metadata.name,
        namespace: secret.metadata.namespace,
      },
      {
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        name: 'netguard-tls',
        namespace: 'netguard-system',
      },
    );
    t.equal(
      Buffer.from(secret.data['tls.crt'], 'base64').toString(),
      result.certificates.serving.cert,
    );
    t.equal(
      Buffer.from(secret.data['tls.key'], 'base64').toString(),
      result.certificates.serving.key,
    );
  },
);

t.test('certs --patch writes the caBundle into every webhook of both configurations', async (t) => {
  const api = await startFakeKubeApi(t);
  const config = (kind: string, names: string[]) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name: 'netguard' },
    webhooks: names.map((name) => ({
      name,
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      clientConfig: { service: { name: 'netguard', namespace: 'netguard-system', path: '/x' } },
    })),
  });
  api.seed(
    VALIDATING,
    config('ValidatingWebhookConfiguration', ['validate.netguard.dev', 'second.netguard.dev']),
  );
  api.seed(MUTATING, config('MutatingWebhookConfiguration', ['mutate.netguard.dev']));
  // A concurrent writer wins the first replace: the patch rereads and tries again.
  api.failNext('PUT', /validatingwebhookconfigurations\/netguard$/, 409, 'Conflict');
  const result = await runCerts({ ...base, patch: true, kubeconfig: api.kubeconfigPath }, now);
  const bundles = [...api.list(VALIDATING), ...api.list(MUTATING)].flatMap((c) =>
    c.webhooks.map((w: Record<string, any>) => w.clientConfig.caBundle),
  );
  t.same(bundles, [
    result.certificates.caBundle,
    result.certificates.caBundle,
    result.certificates.caBundle,
  ]);
  t.equal(
    api.list(VALIDATING)[0]?.webhooks[0].clientConfig.service.path,
    '/x',
    'the rest of the configuration is kept',
  );
  t.match(
    result.notes.join('\n'),
    'caBundle patched into validatingwebhookconfiguration/netguard and mutatingwebhookconfiguration/netguard',
  );
  t.same(
    api.writes().map((w) => w.method),
    ['PUT', 'PUT', 'PUT'],
  );
});

t.test('certs --patch names the configuration it could not find', async (t) => {
  const api = await startFakeKubeApi(t);
  await t.rejects(
    runCerts({ ...base, patch: true, kubeconfig: api.kubeconfigPath }, now),
    /could not patch validatingwebhookconfiguration\/netguard/,
  );
});
