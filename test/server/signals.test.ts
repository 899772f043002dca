import { connect, type TLSSocket } from 'node:tls';
import t from 'tap';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.ts';

const deployment = loadOne('test/fixtures/workloads/deployment-missing-tier.yaml');
const reviewIn = (namespace: string): string =>
  JSON.stringify(
    reviewFor({ ...deployment, metadata: { ...(deployment['metadata'] as object), namespace } }),
  );

/** A kept-alive TLS connection that sends one request at a time and reads one reply at a time. */
function connection(server: ServeProcess): Promise<{
  socket: TLSSocket;
  send(body: string): Promise<string>;
  sendHalf(body: string): () => Promise<string>;
  closed: Promise<void>;
}> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port: server.port,
        ca: server.ca,
        servername: 'netguard.netguard-system.svc',
      },
      () => {
        let buffer = '';
        let waiting: ((reply: string) => void) | undefined;
        const deliver = (): void => {
          const end = buffer.indexOf('\r\n\r\n');
          const length = Number(/content-length: (\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 'NaN');
          if (end < 0 || buffer.length < end + 4 + length || waiting === undefined) return;
          const reply = buffer.slice(0, end + 4 + length);
          buffer = buffer.slice(end + 4 + length);
          const done = waiting;
          waiting = undefined;
          done(reply);
        };
        socket.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          deliver();
        });
        const head = (body: string): string =>
          `POST /validate HTTP/1.1\r\nHost: netguard\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
        const next = (): Promise<string> =>
          new Promise((done) => {
            waiting = done;
            deliver();
          });
        resolve({
          socket,
          send(body) {
            socket.write(head(body) + body);
            return next();
          },
          sendHalf(body) {
            const half = Math.floor(body.length / 2);
            socket.write(head(body) + body.slice(0, half));
            return () => {
              socket.write(body.slice(half));
              return next();
            };
          },
          closed: new Promise((done) => socket.on('close', () => done())),
        });
      },
    );
    socket.on('error', reject);
  });
}

function refused(server: ServeProcess): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port: server.port,
        ca: server.ca,
        servername: 'netguard.netguard-system.svc',
      },
      () => {
        socket.destroy();
        resolve(false);
      },
    );
    socket.on('error', () => resolve(true));
  });
}

const allowed = (reply: string): boolean =>
  JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)).response.allowed;

t.test(
  'after SIGTERM, open keep-alive connections keep being answered, each closed after its reply',
  async (t) => {
    const server = await startServeProcess(t, { args: ['--drain-seconds', '2'] });
    const busy = await connection(server);
    const idle = await connection(server);
    const first = await busy.send(reviewIn('prod-shop'));
    t.match(first, /^HTTP\/1\.1 200 OK\r\n/);
    t.notMatch(first, /\r\nconnection: close\r\n/i, 'kept alive before SIGTERM');
    t.equal(allowed(await idle.send(reviewIn('dev-shop'))), true);

    server.child.kill('SIGTERM');
    for (let i = 0; i < 500 && !(await refused(server)); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    t.ok(await refused(server), 'no new connections after SIGTERM');

    // The API server reuses a pooled connection after the endpoint went away: answered, not reset.
    const second = await busy.send(reviewIn('prod-shop'));
    t.match(
      second,
      /^HTTP\/1\.1 200 OK\r\n/,
      'a review sent after SIGTERM on an open connection is answered',
    );
    t.match(second, /\r\nconnection: close\r\n/i, 'and that connection is closed after its reply');
    t.equal(allowed(second), false, 'with its real verdict');
    await busy.closed;
    // The idle one is closed at the end of the drain window, and the process exits.
    await idle.closed;
    t.equal(await server.exited, 0, 'exit code 0');
  },
);

t.test(
  'SIGHUP reloads instead of killing: reviews in flight are answered and the process keeps serving',
  async (t) => {
    const server = await startServeProcess(t);
    const connections = await Promise.all(Array.from({ length: 20 }, () => connection(server)));
    const finishers = connections.map((c, i) =>
      c.sendHalf(reviewIn(i % 2 === 0 ? 'prod-shop' : 'dev-shop')),
    );
    server.child.kill('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const replies = await Promise.all(finishers.map((finish) => finish()));
    t.ok(
      replies.every((reply) => reply.startsWith('HTTP/1.1 200 OK\r\n')),
      'every review in flight answered 200',
    );
    t.same(
      replies.map(allowed),
      connections.map((_c, i) => i % 2 === 1),
      'each with its verdict',
    );
    t.equal(server.child.exitCode, null, 'still running');
    t.ok(
      server.logs.some((entry) => String(entry['msg']).startsWith('SIGHUP: reloading')),
      'the reload is logged',
    );
    t.ok(
      server.logs.some((entry) => entry['msg'] === 'policy reloaded'),
      'the policy was re-read',
    );
    for (const c of connections) c.socket.destroy();
  },
);
