import { request as httpsRequest, Agent } from 'node:https';
import { pino } from 'pino';
import type { Test } from 'tap';
import { buildApp, type AppDeps } from '../../src/server/app.ts';
import type { EvaluationContext } from '../../src/engine/types.ts';
import { contextFor } from './context.ts';
import { localCertificates } from './tls.ts';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  json(): any;
}

export interface RunningWebhook {
  readonly url: string;
  readonly port: number;
  /** POSTs over real TLS, trusting only the generated CA. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply>;
  get(path: string): Promise<Reply>;
}

/** Starts the real HTTPS app on an ephemeral loopback port; closed when the test ends. */
export async function startWebhook(
  t: Test,
  options: { context?: () => EvaluationContext; notReady?: () => string[]; deps?: Partial<AppDeps> } = {},
): Promise<RunningWebhook> {
  const certs = localCertificates();
  const context = options.context ?? (() => contextFor());
  const app = buildApp({
    logger: pino({ level: 'silent' }),
    tls: { cert: certs.cert, key: certs.key },
    context,
    notReady: options.notReady ?? (() => []),
    ...options.deps,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const agent = new Agent({ keepAlive: true, ca: certs.ca });
  t.teardown(async () => {
    agent.destroy();
    await app.close();
  });
  const send = (method: string, path: string, payload?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        { host: 'localhost', port, path, method, agent, headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return {
    url: `https://localhost:${port}`,
    port,
    post: (path, body, headers) => send('POST', path, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), headers),
    get: (path) => send('GET', path),
  };
}
