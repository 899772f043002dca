import { pino } from 'pino';
import type { Test } from 'tap';
import { buildApp, type AppDeps } from '../../src/server/app.ts';
import type { EvaluationContext } from '../../src/engine/types.ts';
import { contextFor } from './context.ts';
import { httpsClient, type HttpsClient } from './https-client.ts';
import { localCertificates } from './tls.ts';

export type { Reply } from './https-client.ts';

export interface RunningWebhook {
  readonly url: string;
  readonly port: number;
  /** POSTs over real TLS, trusting only the generated CA. */
  post: HttpsClient['post'];
  get: HttpsClient['get'];
  /** The app's body budget (bytes held now, bodies waiting). */
  readonly budget: { inFlight(): number; waiting(): number };
}

/** Starts the real HTTPS app on an ephemeral loopback port; closed when the test ends. */
export async function startWebhook(
  t: Test,
  options: {
    context?: () => EvaluationContext;
    notReady?: () => string[];
    deps?: Partial<AppDeps>;
  } = {},
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
  const client = httpsClient(port, certs.ca);
  t.teardown(async () => {
    client.close();
    await app.close();
  });
  return {
    url: `https://localhost:${port}`,
    port,
    post: client.post,
    get: client.get,
    budget: app.budget,
  };
}
