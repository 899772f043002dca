/**
 * netguard as the e2e tests run it: serving certificates for the Service DNS names (what
 * `netguard certs` writes), and the webhook on an ephemeral loopback port, started either through
 * buildApp (to count decisions) or through `serve()` (the command the Deployment runs).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Test } from 'tap';
import { createCA, createServingCert, serviceDnsNames } from '../../src/certs/generate.ts';
import { serve } from '../../src/cli/serve.ts';
import { loadPolicyFile } from '../../src/config/load.ts';
import { NO_WAIVERS, staticClusterView } from '../../src/engine/cluster-view.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { buildApp, type DecisionRecord } from '../../src/server/app.ts';
import { readServingPair, tlsFilesIn } from '../../src/server/tls.ts';
import { kustomize } from '../helpers/kubectl.ts';

export const SERVICE = { name: 'netguard', namespace: 'netguard-system' } as const;

/** `kubectl kustomize deploy/`, parsed: call once per test file. */
export function renderDeploy(dir = 'deploy/'): unknown[] {
  return kustomize(dir);
}

export interface ServiceCertificates {
  /** Holds ca.crt, tls.crt and tls.key, as `netguard certs --out DIR` writes them. */
  readonly dir: string;
  /** base64 of ca.crt: the webhook configurations' caBundle. */
  readonly caBundle: string;
}

/** A CA and a serving pair for every DNS name of the netguard Service; `names` overrides them. */
export function serviceCertificates(names: readonly string[] = serviceDnsNames(SERVICE.name, SERVICE.namespace)): ServiceCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'netguard-e2e-'));
  const ca = createCA('netguard e2e CA');
  const serving = createServingCert(ca, { commonName: names[0] ?? 'netguard', dnsNames: names });
  writeFileSync(join(dir, 'ca.crt'), ca.cert);
  writeFileSync(join(dir, 'tls.crt'), serving.cert);
  writeFileSync(join(dir, 'tls.key'), serving.key, { mode: 0o600 });
  return { dir, caBundle: Buffer.from(ca.cert).toString('base64') };
}

export interface RunningNetguard {
  readonly port: number;
  /** Every decision netguard made, as its audit log records them. */
  readonly decisions: DecisionRecord[];
}

/**
 * buildApp with the shipped policy and TLS from `certs.dir`; `cluster` plays the informer caches
 * (Namespaces, NetworkPolicies), already synced.
 */
export async function startNetguard(t: Test, certs: ServiceCertificates, cluster: () => readonly KubeObject[]): Promise<RunningNetguard> {
  const policy = loadPolicyFile('policies/guardrails.yaml');
  const decisions: DecisionRecord[] = [];
  const app = buildApp({
    logger: pino({ level: 'silent' }),
    tls: readServingPair(tlsFilesIn(certs.dir)),
    context: () => ({ policy, cluster: staticClusterView(cluster()), waivers: NO_WAIVERS, now: new Date() }),
    notReady: () => [],
    onDecision: (record) => decisions.push(record),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const address = app.server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, decisions };
}

/** `netguard serve --certs DIR --port 0 --host 127.0.0.1`, as the container runs it (no cluster). */
export async function serveNetguard(t: Test, certs: ServiceCertificates): Promise<{ port: number; close(): Promise<void> }> {
  const exceptions = join(certs.dir, 'exceptions.yaml');
  writeFileSync(exceptions, '');
  const running = await serve({
    config: 'policies/guardrails.yaml',
    exceptions,
    port: 0,
    metricsPort: 0,
    host: '127.0.0.1',
    certs: certs.dir,
    logLevel: 'silent',
  });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await running.close();
  };
  t.teardown(close);
  return { port: Number(new URL(running.url).port), close };
}

export const fixture = (name: string): string => readFileSync(join('test/fixtures/e2e', name), 'utf8');
