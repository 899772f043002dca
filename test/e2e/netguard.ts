/**
 * netguard as the e2e tests run it: serving certificates for the Service DNS names (what
 * `netguard certs` writes), and the webhook on an ephemeral loopback port, started either through
 * buildApp (to count decisions) or through `serve()` (the command the Deployment runs).
 */
import { RULES_BY_ID } from '../../src/rules/registry.ts';
import { RULE_SET } from '../../src/rules/registry.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
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
export function serviceCertificates(
  names: readonly string[] = serviceDnsNames(SERVICE.name, SERVICE.namespace),
): ServiceCertificates {
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
  /** The listening server, with the keep-alive settings buildApp gave it. */
  readonly server: { keepAliveTimeout: number; keepAliveTimeoutBuffer: number };
  /** Every decision netguard made, as its audit log records them. */
  readonly decisions: DecisionRecord[];
}

/**
 * buildApp with a policy (the shipped one unless given) and TLS from `certs.dir`; `cluster` plays
 * the informer caches (Namespaces, NetworkPolicies), already synced.
 */
export async function startNetguard(
  t: Test,
  certs: ServiceCertificates,
  cluster: () => readonly KubeObject[],
  config = 'policies/guardrails.yaml',
): Promise<RunningNetguard> {
  const policy = loadPolicyFile(config, RULES_BY_ID);
  const decisions: DecisionRecord[] = [];
  const app = buildApp({
    logger: pino({ level: 'silent' }),
    tls: readServingPair(tlsFilesIn(certs.dir)),
    context: () => ({
      policy,
      rules: RULE_SET,
      cluster: staticClusterView(cluster()),
      waivers: NO_WAIVERS,
      now: new Date(),
    }),
    notReady: () => [],
    onDecision: (record) => decisions.push(record),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    server: app.server,
    decisions,
  };
}

/** `netguard serve --certs DIR --port 0 --host 127.0.0.1`, as the container runs it (no cluster). */
export async function serveNetguard(
  t: Test,
  certs: ServiceCertificates,
): Promise<{ port: number; close(): Promise<void> }> {
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
    // A test's outage starts at close(): no drain window for the harness's pooled connections.
    drainSeconds: 0,
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

export const fixture = (name: string): string =>
  readFileSync(join('test/fixtures/e2e', name), 'utf8');

/** What a fake webhook does with one review: answer it, never answer, or close the connection unanswered. */
export type FakeAnswer =
  | { status: number; body: unknown; contentType?: string }
  | 'never'
  | 'hang up';

export interface FakeWebhook {
  readonly port: number;
  /** Every AdmissionReview request received, in order of arrival. */
  readonly requests: Record<string, unknown>[];
}

/** A webhook over TLS with `pair`'s certificate, answering each review with `reply(request)`. */
export async function fakeWebhook(
  t: Test,
  pair: ServiceCertificates,
  reply: (
    request: { uid: string } & Record<string, unknown>,
    index: number,
  ) => FakeAnswer | Promise<FakeAnswer> | undefined,
): Promise<FakeWebhook> {
  const requests: Record<string, unknown>[] = [];
  const server: Server = createServer(
    { cert: readFileSync(join(pair.dir, 'tls.crt')), key: readFileSync(join(pair.dir, 'tls.key')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request = JSON.parse(Buffer.concat(chunks).toString('utf8')).request;
        requests.push(request);
        void Promise.resolve(reply(request, requests.length - 1)).then((answer = 'never') => {
          if (answer === 'never') return;
          if (answer === 'hang up') return req.socket.destroy();
          res.writeHead(answer.status, {
            'content-type': answer.contentType ?? 'application/json',
          });
          res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
        });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, requests };
}

/** An allowing AdmissionReview reply to `request`, with extra response fields. */
export const allow = (
  request: { uid: string },
  extra: Record<string, unknown> = {},
): FakeAnswer => ({
  status: 200,
  body: {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: request.uid, allowed: true, ...extra },
  },
});
