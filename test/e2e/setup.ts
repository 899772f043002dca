import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { parseAllDocuments } from 'yaml';
import { runCerts } from '../../src/cli/certs.ts';
import { serve, type RunningServer } from '../../src/cli/serve.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.ts';
import { request } from 'node:https';
import { apiServerHarness, type ApiServerHarness } from './harness.ts';

type Obj = Record<string, any>;

export const VALIDATING = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
export const MUTATING = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

export function renderDeploy(): Obj[] {
  return parseAllDocuments(execFileSync('kubectl', ['kustomize', 'deploy/'], { encoding: 'utf8' })).map((doc) => doc.toJS() as Obj);
}

export async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** GET /readyz over TLS, verifying the serving certificate for the Service's DNS name. */
export function readyz(port: number, ca: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', ca, servername: 'netguard.netguard-system.svc', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

export interface Installation {
  readonly api: FakeKubeApi;
  readonly netguard: RunningServer;
  readonly port: number;
  readonly caBundle: string;
  /** The webhook configurations as stored in the cluster after `netguard certs --patch`. */
  configurations(): Obj[];
  harness(configurations?: Obj[], resolvePort?: number): ApiServerHarness;
}

/**
 * The install as docs/install.md tells it, against the fake API server: deploy/'s webhook
 * configurations and namespaces exist, `netguard certs --patch` writes the caBundle and the serving
 * pair, `netguard serve` runs with a kubeconfig (so its caches list and watch), and is ready.
 */
export async function install(t: Test): Promise<Installation> {
  const api = await startFakeKubeApi(t);
  const rendered = renderDeploy();
  for (const object of rendered.filter((o) => o.kind.endsWith('WebhookConfiguration'))) {
    api.seed(object.kind === 'ValidatingWebhookConfiguration' ? VALIDATING : MUTATING, object);
  }
  for (const name of ['kube-system', 'kube-public', 'kube-node-lease', 'default', 'netguard-system']) {
    api.seed('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
  }
  const dir = mkdtempSync(join(tmpdir(), 'netguard-e2e-'));
  const certs = await runCerts({ service: 'netguard', namespace: 'netguard-system', out: join(dir, 'tls'), patch: true, secretName: 'netguard-tls', webhookConfiguration: 'netguard', kubeconfig: api.kubeconfigPath });
  writeFileSync(join(dir, 'exceptions.yaml'), '');
  const netguard = await serve({
    config: 'policies/guardrails.yaml',
    exceptions: join(dir, 'exceptions.yaml'),
    port: 0,
    metricsPort: 0,
    host: '127.0.0.1',
    certs: join(dir, 'tls'),
    kubeconfig: api.kubeconfigPath,
    logLevel: 'silent',
  });
  t.teardown(() => netguard.close());
  const port = Number(new URL(netguard.url).port);
  // As the kubelet's readiness probe: no reviews until the caches have synced.
  await until(async () => (await readyz(port, certs.certificates.ca.cert)) === 200, 'netguard ready');
  const configurations = (): Obj[] => [...api.list(VALIDATING), ...api.list(MUTATING)];
  return {
    api,
    netguard,
    port,
    caBundle: certs.certificates.caBundle,
    configurations,
    harness: (configs = configurations(), resolvePort = port) =>
      apiServerHarness({ api, configurations: configs, resolve: () => ({ host: '127.0.0.1', port: resolvePort }) }),
  };
}
