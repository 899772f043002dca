import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import {
  BODY_DEADLINE_MS,
  heapFitsLargestBody,
  oldSpaceLimit,
  SMALL_BODY,
} from '../../src/server/body-budget.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { localCertificates } from '../helpers/tls.ts';
import { until } from '../helpers/until.ts';
import { startWebhook } from '../helpers/webhook.ts';

const MiB = 1024 * 1024;
const KiB = 1024;

/** A review of about `bytes`: a labelled Deployment padded with a field no rule reads. */
function reviewOf(bytes: number): string {
  const deployment = loadOne('test/fixtures/workloads/deployment-labelled.yaml');
  const base = JSON.stringify(
    reviewFor({
      ...deployment,
      metadata: { ...(deployment['metadata'] as object), namespace: 'prod-shop' },
    }),
  );
  return base.replace(
    '"spec":{',
    `"spec":{"padding":"${'x'.repeat(Math.max(0, bytes - base.length - 14))}",`,
  );
}

interface Partial {
  readonly socket: TLSSocket;
  /** Everything the server sent until it closed the connection. */
  readonly reply: Promise<string>;
  send(text: string): void;
}

/** Opens a connection and sends the headers of a POST declaring `length` bytes, and `first` of them. */
function startPost(port: number, length: number, first = ''): Promise<Partial> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, ca: localCertificates().ca, servername: 'localhost' },
      () => {
        socket.write(
          `POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${first}`,
        );
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          if (/\r\n\r\n[\s\S]*\}$/.test(Buffer.concat(chunks).toString('utf8'))) socket.end();
        });
        const reply = new Promise<string>((done) =>
          socket.on('close', () => done(Buffer.concat(chunks).toString('utf8'))),
        );
        resolve({ socket, reply, send: (text) => void socket.write(text) });
      },
    );
    socket.on('error', reject);
  });
}

t.test(
  'connections that declare a body and send none hold nothing: real reviews are answered while they sit on the port',
  async (t) => {
    const webhook = await startWebhook(t, {
      deps: {
        memory: { maxBytes: 256 * KiB },
        timeouts: { connectionMs: 60_000, requestMs: 60_000, checkMs: 100 },
      },
    });
    // Each declares a largest body (over the whole budget) and sends not a byte of it.
    const stalled = await Promise.all(
      Array.from({ length: 20 }, () => startPost(webhook.port, 6 * MiB)),
    );
    t.equal(webhook.budget.inFlight(), 0, 'a declared Content-Length reserves nothing');
    let closedBeforeAnswers = 0;
    for (const post of stalled) void post.reply.then(() => closedBeforeAnswers++);
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => webhook.post('/validate', reviewOf(8 * KiB))),
    );
    t.same(
      replies.map((reply) => reply.status),
      Array(10).fill(200),
      'every real review is judged while the stalled connections sit on the port',
    );
    t.ok(
      replies.every((reply) => reply.json().response.allowed === true),
      'with its verdict',
    );
    t.equal(closedBeforeAnswers, 0, 'while every stalled connection was still open');
    for (const post of stalled) post.socket.destroy();
    await until(() => webhook.budget.inFlight() === 0, 'nothing held');
  },
);

t.test('a body that does not arrive within the deadline is dropped', async (t) => {
  const webhook = await startWebhook(t, {
    deps: { timeouts: { connectionMs: 30_000, requestMs: 1_000, checkMs: 100 } },
  });
  const stalled = await startPost(webhook.port, 6 * MiB, '{"apiVersion":');
  t.match(await stalled.reply, /^(HTTP\/1\.1 408 |$)/, 'dropped: 408 or a bare close');
  t.equal(webhook.budget.inFlight(), 0, 'its bytes released');
  const after = await webhook.post('/validate', reviewOf(8 * KiB));
  t.equal(after.status, 200, 'the server keeps serving');
});

t.test('bytes count as they arrive, and come back with the reply', async (t) => {
  const webhook = await startWebhook(t, { deps: { memory: { maxBytes: 4 * MiB } } });
  const body = reviewOf(200 * KiB);
  const post = await startPost(webhook.port, body.length, body.slice(0, 100 * KiB));
  await until(() => webhook.budget.inFlight() === 100 * KiB, 'the first 100 KiB counted');
  t.equal(webhook.budget.inFlight(), 100 * KiB, 'exactly the bytes received so far');
  post.send(body.slice(100 * KiB));
  t.match(await post.reply, /^HTTP\/1\.1 200 [\s\S]*"allowed":true/);
  await until(() => webhook.budget.inFlight() === 0, 'the bytes released');
  t.equal(webhook.budget.inFlight(), 0);
});

t.test(
  'a large body past the budget waits for room, and small reviews never wait behind it',
  async (t) => {
    const webhook = await startWebhook(t, { deps: { memory: { maxBytes: 300 * KiB } } });
    const body = reviewOf(250 * KiB);
    const first = await startPost(webhook.port, body.length, body.slice(0, 200 * KiB));
    await until(() => webhook.budget.inFlight() === 200 * KiB, 'the first body holding 200 KiB');
    const second = await startPost(webhook.port, body.length, body.slice(0, 200 * KiB));
    await until(() => webhook.budget.waiting() === 1, 'the second body waiting for room');
    t.ok(
      webhook.budget.inFlight() <= 300 * KiB,
      `held ${webhook.budget.inFlight()} bytes: within the budget`,
    );
    const small = await webhook.post('/validate', reviewOf(SMALL_BODY - 4 * KiB));
    t.equal(small.status, 200, 'a small review is judged while the budget is full');
    first.send(body.slice(200 * KiB));
    t.match(await first.reply, /^HTTP\/1\.1 200 /, 'the first is judged');
    second.send(body.slice(200 * KiB));
    const secondReply = await second.reply;
    t.match(
      secondReply.slice(0, 300),
      /^HTTP\/1\.1 200 /,
      'the second gets room when the first is answered',
    );
    await until(() => webhook.budget.inFlight() === 0, 'every byte released');
  },
);

t.test('a body that waits past the deadline is dropped and frees its place', async (t) => {
  const webhook = await startWebhook(t, {
    deps: {
      memory: { maxBytes: 300 * KiB },
      timeouts: { connectionMs: 30_000, requestMs: 1_000, checkMs: 100 },
    },
  });
  const body = reviewOf(250 * KiB);
  const first = await startPost(webhook.port, body.length, body.slice(0, 200 * KiB));
  await until(() => webhook.budget.inFlight() === 200 * KiB, 'the first body held');
  const second = await startPost(webhook.port, body.length, body.slice(0, 200 * KiB));
  await until(() => webhook.budget.waiting() === 1, 'the second waiting');
  // Neither finishes its body: a paused socket is not read, so only the deadline ends them.
  await until(() => webhook.budget.waiting() === 0, 'the waiter dropped at the deadline');
  await until(() => webhook.budget.inFlight() === 0, 'both released');
  t.match(await second.reply, /^(HTTP\/1\.1 408 |$)/, 'the waiting one was dropped');
  t.match(await first.reply, /^(HTTP\/1\.1 408 |$)/, 'the stalled one too');
  const after = await webhook.post('/validate', reviewOf(250 * KiB));
  t.equal(after.status, 200, 'the next large review gets room at once');
});

t.test(
  'the body deadline is the smallest timeoutSeconds of the shipped webhook configurations',
  async (t) => {
    const timeouts = parseAllDocuments(readFileSync('deploy/base/webhooks.yaml', 'utf8'))
      .map((doc) => doc.toJS() as { webhooks?: { timeoutSeconds?: number }[] } | null)
      .flatMap((config) => config?.webhooks ?? [])
      .map((webhook) => webhook.timeoutSeconds ?? 10);
    t.ok(timeouts.length >= 3, `read ${timeouts.length} webhooks`);
    t.equal(BODY_DEADLINE_MS, Math.min(...timeouts) * 1000);
  },
);

t.test('the heap check reads --max-old-space-size; 256 MiB holds one largest body', async (t) => {
  t.equal(oldSpaceLimit(['--max-old-space-size=256']), 256 * MiB);
  t.equal(
    oldSpaceLimit(['--max-old-space-size=256', '--max_old_space_size=512']),
    512 * MiB,
    'the last flag wins, as in V8',
  );
  t.ok(heapFitsLargestBody(256 * MiB), "the Deployment's old space");
  t.notOk(heapFitsLargestBody(192 * MiB), 'a smaller one does not');
});

t.test(
  'one connection holds at most one body limit: a pipelined second body past it gets 413',
  async (t) => {
    const webhook = await startWebhook(t, { deps: { bodyLimit: 64 * KiB } });
    const body = reviewOf(40 * KiB);
    const request = `POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    // Both requests in one write: the second body arrives while the first is still held.
    const replies = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(
        {
          host: '127.0.0.1',
          port: webhook.port,
          ca: localCertificates().ca,
          servername: 'localhost',
        },
        () => socket.write(request + request),
      );
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    t.same(replies.match(/HTTP\/1\.1 \d+/g), ['HTTP/1.1 200', 'HTTP/1.1 413']);
    t.match(replies, /one connection holds at most one body of 0\.1 MiB/);
    await until(() => webhook.budget.inFlight() === 0, 'both released');
    const after = await webhook.post('/validate', body);
    t.equal(after.status, 200, 'a new connection is served');
  },
);
