import Fastify from 'fastify';

/** buildApp's TLS cipher list and body limit, handed over by the parent (which imports src/server/app.ts). */
export interface BareSettings {
  readonly ciphers: string;
  readonly bodyLimit: number;
}

export function parseBareSettings(json: string): BareSettings {
  const parsed: unknown = JSON.parse(json);
  const ciphers: unknown =
    parsed !== null && typeof parsed === 'object' ? Reflect.get(parsed, 'ciphers') : undefined;
  const bodyLimit: unknown =
    parsed !== null && typeof parsed === 'object' ? Reflect.get(parsed, 'bodyLimit') : undefined;
  if (typeof ciphers !== 'string' || typeof bodyLimit !== 'number')
    throw new Error(`bare endpoint settings missing: ${json}`);
  return { ciphers, bodyLimit };
}

function uidOf(body: unknown): string {
  if (body === null || typeof body !== 'object') return '';
  const request: unknown = Reflect.get(body, 'request');
  if (request === null || typeof request !== 'object') return '';
  const uid: unknown = Reflect.get(request, 'uid');
  return typeof uid === 'string' ? uid : '';
}

/**
 * The bare limit: Fastify over the same TLS settings, body limit and timeouts as buildApp,
 * parsing the same JSON body and answering a canned allowed review (uid echoed). No logging.
 */
export function buildBareApp(pair: { cert: string; key: string }, settings: BareSettings) {
  const app = Fastify({
    https: { ...pair, minVersion: 'TLSv1.2', ciphers: settings.ciphers },
    bodyLimit: settings.bodyLimit,
    keepAliveTimeout: 72_000,
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    return503OnClosing: false,
  });
  const canned = async (request: { body: unknown }) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: uidOf(request.body), allowed: true },
  });
  app.post('/validate', canned);
  app.post('/mutate', canned);
  app.get('/healthz', async () => ({ status: 'ok' }));
  return app;
}
