import { pino } from 'pino';
import { buildApp, type AppDeps } from '../../src/server/app.ts';
import { contextFor } from './context.ts';
import { localCertificates } from './tls.ts';

/** The real app, not listening: for `inject()` where the network adds nothing to the test. */
export function injectableApp(deps: Partial<AppDeps> = {}) {
  const certs = localCertificates();
  return buildApp({
    logger: pino({ level: 'silent' }),
    tls: { cert: certs.cert, key: certs.key },
    context: () => contextFor(),
    notReady: () => [],
    ...deps,
  });
}
