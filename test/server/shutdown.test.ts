import { connect, type TLSSocket } from 'node:tls';
import t from 'tap';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startServeProcess } from '../helpers/serve-process.ts';

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
  const { child, port, ca, exited } = await startServeProcess(t);
  t.ok(port > 0, 'listening');

  const deployment = loadOne('test/fixtures/workloads/deployment-missing-tier.yaml');
  const inFlight = await Promise.all(
    NAMESPACES.map((namespace) =>
      startReview(
        port,
        ca,
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
  for (let i = 0; i < 500 && !(await refused(port, ca)); i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  t.ok(await refused(port, ca), 'no new connections after SIGTERM');

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
