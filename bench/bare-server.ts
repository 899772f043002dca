// The bare endpoint as its own process: node bench/bare-server.ts <port> <certs dir> <settings JSON>.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBareApp, parseBareSettings } from './bare-app.ts';

const [port = '0', certs = 'certs', settings = '{}'] = process.argv.slice(2);
const pair = {
  cert: readFileSync(join(certs, 'tls.crt'), 'utf8'),
  key: readFileSync(join(certs, 'tls.key'), 'utf8'),
};
const app = buildBareApp(pair, parseBareSettings(settings));
await app.listen({ port: Number(port), host: '127.0.0.1' });
const stop = (): void => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
