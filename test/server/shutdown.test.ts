import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { runCerts } from '../../src/cli/certs.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';

const SERVICE = {
  service: 'netguard',
  namespace: 'netguard-system',
  secretName: 'netguard-tls',
  webhookConfiguration: 'netguard',
};

/** Opens a TLS connection and sends a review's headers and half its body: a review in flight. */
function startReview(
  port: number,
  ca: string,
  body: string,
): Promise<{ socket: TLSSocket; finish(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, ca, servername: 'netguard.netguard-system.svc' },
      () => {
        const half = Math.floor(body.length / 2);
        socket.write(
          `POST /validate HTTP/1.1\r\nHost: netguard\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
        );
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        const ended = new Promise<string>((done) =>
          socket.on('close', () => done(Buffer.concat(chunks).toString('utf8'))),
        );
        resolve({
          socket,
          finish: () => {
            socket.write(body.slice(half));
            return ended;
          },
        });
      },
    );
    socket.on('error', reject);
  });
}

function refused(port: number, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(
      { host: '127.0.0.1', port, ca, servername: 'netguard.netguard-system.svc' },
      () => {
        socket.destroy();
        resolve(false);
      },
    );
    socket.on('error', () => resolve(true));
  });
}

// 200 reviews in flight, as the issue asks: production ones are denied, development ones admitted.
const NAMESPACES = Array.from({ length: 200 }, (_, i) => (i % 3 === 2 ? `dev-${i}` : `prod-${i}`));

t.test('SIGTERM with 200 reviews in flight: every one is answered, then exit 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netguard-shutdown-'));
  const certs = await runCerts({ ...SERVICE, out: join(dir, 'tls') });
  writeFileSync(join(dir, 'exceptions.yaml'), '');
  const child = spawn(
    process.execPath,
    [
      'src/cli/main.ts',
      'serve',
      '--port',
      '0',
      '--metrics-port',
      '0',
      '--host',
      '127.0.0.1',
      '--certs',
      join(dir, 'tls'),
      '--exceptions',
      join(dir, 'exceptions.yaml'),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let port = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    const url: unknown = JSON.parse(line).url;
    if (typeof url === 'string' && url.startsWith('https://')) {
      port = Number(new URL(url).port);
      break;
    }
  }
  child.stdout.resume();
  t.ok(port > 0, 'listening');

  const deployment = loadOne('test/fixtures/workloads/deployment-missing-tier.yaml');
  const inFlight = await Promise.all(
    NAMESPACES.map((namespace) =>
      startReview(
        port,
        certs.certificates.ca.cert,
        JSON.stringify(
          reviewFor({
            ...deployment,
            metadata: { ...(deployment['metadata'] as object), namespace },
          }),
        ),
      ),
    ),
  );
  child.kill('SIGTERM');
  // The listener closes first: once a new connection is refused, SIGTERM has been handled.
  for (let i = 0; i < 500 && !(await refused(port, certs.certificates.ca.cert)); i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  t.ok(await refused(port, certs.certificates.ca.cert), 'no new connections after SIGTERM');

  const replies = await Promise.all(inFlight.map((review) => review.finish()));
  t.ok(
    replies.every((reply) => reply.startsWith('HTTP/1.1 200 OK\r\n')),
    'every review in flight answered 200',
  );
  t.ok(
    replies.every((reply) => /\r\nconnection: close\r\n/i.test(reply)),
    'each drained connection is closed, not left idle until keepAliveTimeout',
  );
  const verdicts = replies.map(
    (reply) => JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)).response.allowed,
  );
  t.same(
    verdicts,
    NAMESPACES.map((namespace) => namespace.startsWith('dev-')),
    'each review in flight got its real verdict',
  );
  t.equal(await exited, 0, 'exit code 0');
});
