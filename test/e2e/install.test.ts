/**
 * The install as docs/install.md tells it: deploy/'s webhook configurations are in the cluster with
 * an empty caBundle, `netguard certs --secret --patch` fills it (one run: the Secret and the caBundle
 * come from the same CA), netguard serves the pair, and the API server trusts it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { runCerts } from '../../src/cli/certs.ts';
import { serve } from '../../src/cli/serve.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { apiServer, webhookConfigurations } from './api-server.ts';
import { fixture, renderDeploy } from './netguard.ts';
import { skipFileWithoutKubectl } from '../helpers/kubectl.ts';

skipFileWithoutKubectl(t);

const VALIDATING = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MUTATING = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

t.test(
  'kubectl apply -k deploy/, then netguard certs --secret --patch: the API server trusts netguard',
  async (t) => {
    const cluster = await startFakeKubeApi(t);
    const rendered = renderDeploy();
    for (const configuration of webhookConfigurations(rendered)) {
      t.equal(
        configuration.webhooks.every((w) => w.clientConfig.caBundle === ''),
        true,
        `${configuration.kind} ships without a caBundle`,
      );
    }
    for (const object of rendered as Record<string, unknown>[]) {
      if (object['kind'] === 'ValidatingWebhookConfiguration') cluster.seed(VALIDATING, object);
      if (object['kind'] === 'MutatingWebhookConfiguration') cluster.seed(MUTATING, object);
    }
    const dir = mkdtempSync(join(tmpdir(), 'netguard-install-'));
    const certs = await runCerts({
      service: 'netguard',
      namespace: 'netguard-system',
      out: join(dir, 'tls'),
      secret: true,
      patch: true,
      secretName: 'netguard-tls',
      webhookConfiguration: 'netguard',
      kubeconfig: cluster.kubeconfigPath,
    });
    const secret = parse(certs.stdout);
    t.equal(secret.type, 'kubernetes.io/tls');
    t.equal(
      Buffer.from(secret.data['ca.crt'], 'base64').toString('utf8'),
      certs.certificates.ca.cert,
      'the Secret carries the CA the caBundle holds',
    );

    const stored = [...cluster.list(VALIDATING), ...cluster.list(MUTATING)];
    const bundles = webhookConfigurations(stored).flatMap((c) =>
      c.webhooks.map((w) => w.clientConfig.caBundle),
    );
    t.ok(
      bundles.length > 0 && bundles.every((b) => b === certs.certificates.caBundle),
      'every webhook now carries the caBundle',
    );

    writeFileSync(join(dir, 'exceptions.yaml'), '');
    const netguard = await serve({
      config: 'policies/guardrails.yaml',
      exceptions: join(dir, 'exceptions.yaml'),
      port: 0,
      metricsPort: 0,
      host: '127.0.0.1',
      certs: join(dir, 'tls'),
      logLevel: 'silent',
      // Closing a test server need not wait out the harness's pooled connections.
      drainSeconds: 0,
    });
    t.teardown(() => netguard.close());
    const port = Number(new URL(netguard.url).port);
    // No caBundle passed in: the harness uses only what --patch stored.
    const kubectl = apiServer({ rendered: stored, service: () => ({ host: '127.0.0.1', port }) });
    t.same(await kubectl.apply('namespaces.yaml', fixture('namespaces.yaml')), {
      lines: ['namespace/prod-shop created', 'namespace/dev-shop created'],
      ok: true,
    });
    const denied = await kubectl.apply('shop-web.yaml', fixture('shop-web.yaml'));
    t.equal(denied.ok, false);
    t.match(
      denied.lines.at(-1),
      /^Error from server \(Forbidden\): error when creating "shop-web\.yaml": admission webhook "validate\.netguard\.dev" denied the request: Deployment prod-shop\/shop-web violates 1 guardrail/,
    );

    // Before --patch the API server could not have trusted netguard.
    const unpatched = apiServer({ rendered, service: () => ({ host: '127.0.0.1', port }) });
    t.match(
      (await unpatched.apply('namespaces.yaml', fixture('namespaces.yaml'))).lines[0],
      /^Error from server \(InternalError\): error when creating "namespaces\.yaml": Internal error occurred: failed calling webhook "mutate\.netguard\.dev": failed to call webhook: .*x509: certificate signed by unknown authority$/,
    );
  },
);
