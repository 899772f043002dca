import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCerts } from '../../src/cli/certs.ts';
import { serve } from '../../src/cli/serve.ts';
import { until } from '../helpers/until.ts';

const SERVICE = {
  service: 'netguard',
  namespace: 'netguard-system',
  secretName: 'netguard-tls',
  webhookConfiguration: 'netguard',
};

/** A fresh TLS connection (no agent reuse), verifying the chain against `ca` for the Service name. */
function healthz(port: number, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/healthz',
        ca,
        servername: 'netguard.netguard-system.svc',
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(`HTTP ${res.statusCode}`));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

/** A TLS 1.2 handshake offering only `cipher`: the suite the server chose, or the error code. */
function handshake(
  port: number,
  ca: string,
  cipher: string,
  maxVersion: 'TLSv1.2' | 'TLSv1.1' = 'TLSv1.2',
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port,
        ca,
        servername: 'netguard.netguard-system.svc',
        ciphers: cipher,
        maxVersion,
        minVersion: maxVersion,
      },
      () => {
        resolve(socket.getCipher().standardName === '' ? 'none' : socket.getCipher().name);
        socket.destroy();
      },
    );
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

// Suites the issue saw accepted after the first rotation: CBC, and no forward secrecy.
const WEAK = ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA'];

t.test('a rotated pair on disk serves new connections without a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netguard-rotate-'));
  const tls = join(dir, 'tls');
  const first = await runCerts({ ...SERVICE, out: tls });
  writeFileSync(join(dir, 'exceptions.yaml'), '');
  const server = await serve({
    config: 'policies/guardrails.yaml',
    exceptions: join(dir, 'exceptions.yaml'),
    port: 0,
    metricsPort: 0,
    host: '127.0.0.1',
    certs: tls,
    logLevel: 'silent',
    drainSeconds: 0,
  });
  t.teardown(() => server.close());
  const port = Number(new URL(server.url).port);
  t.equal(await healthz(port, first.certificates.ca.cert), 'HTTP 200');

  const second = await runCerts({ ...SERVICE, out: join(dir, 'next') });
  t.not(
    await healthz(port, second.certificates.ca.cert),
    'HTTP 200',
    'the new CA is not trusted by the old pair',
  );
  // As a rotation tool writes them: key first, then the certificate (the mismatched moment is skipped).
  copyFileSync(join(dir, 'next', 'tls.key'), join(tls, 'tls.key'));
  copyFileSync(join(dir, 'next', 'tls.crt'), join(tls, 'tls.crt'));
  await until(
    async () => (await healthz(port, second.certificates.ca.cert)) === 'HTTP 200',
    'the new pair',
  );
  t.pass('connected with the new CA');
  t.not(
    await healthz(port, first.certificates.ca.cert),
    'HTTP 200',
    'the old pair is no longer served',
  );

  // The rotated context keeps the protocol floor and the suites of the first one.
  const ca = second.certificates.ca.cert;
  t.equal(
    await handshake(port, ca, 'ECDHE-RSA-AES128-GCM-SHA256'),
    'ECDHE-RSA-AES128-GCM-SHA256',
    'a forward-secret AEAD suite is served',
  );
  for (const cipher of WEAK)
    t.not(await handshake(port, ca, cipher), cipher, `${cipher} refused after rotation`);
  t.not(
    await handshake(port, ca, 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0', 'TLSv1.1'),
    'ECDHE-RSA-AES128-SHA',
    'TLS 1.1 refused after rotation',
  );
});
