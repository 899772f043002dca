import { connect, type TLSSocket } from 'node:tls';
import t from 'tap';
import {
  bodyBudgetFor,
  BODY_LIMIT,
  oldSpaceLimit,
  type BudgetRefusal,
} from '../../src/server/body-budget.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { localCertificates } from '../helpers/tls.ts';
import { startWebhook } from '../helpers/webhook.ts';

const MiB = 1024 * 1024;

/** A review of about `bytes`: a labelled Deployment padded with an annotation. */
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

/** Sends headers and the first half of the body; `finish()` sends the rest and resolves with the reply. */
function startReview(
  port: number,
  body: string,
): Promise<{ socket: TLSSocket; reply: Promise<string>; finish(): void }> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, ca: localCertificates().ca, servername: 'localhost' },
      () => {
        const half = Math.floor(body.length / 2);
        socket.write(
          `POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, half)}`,
        );
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        const reply = new Promise<string>((done) =>
          socket.on('close', () => done(Buffer.concat(chunks).toString('utf8'))),
        );
        socket.on('data', () => {
          if (/\r\n\r\n[\s\S]*\}$/.test(Buffer.concat(chunks).toString('utf8'))) socket.end();
        });
        resolve({ socket, reply, finish: () => void socket.write(body.slice(half)) });
      },
    );
    socket.on('error', reject);
  });
}

t.test(
  'bodies past the budget wait, then get 503 (queue full at once, or after the wait); reservations come back',
  async (t) => {
    const refusals: BudgetRefusal[] = [];
    const webhook = await startWebhook(t, {
      deps: {
        bodyLimit: 64 * 1024,
        memory: {
          maxBytes: 50 * 1024,
          queueMs: 200,
          maxQueued: 1,
          onRefused: (reason) => refusals.push(reason),
        },
      },
    });
    const body = reviewOf(40 * 1024);
    const first = await startReview(webhook.port, body); // holds 40 KiB of the 50 KiB budget
    const second = await startReview(webhook.port, body); // does not fit: waits
    await new Promise((resolve) => setTimeout(resolve, 20));
    const third = await startReview(webhook.port, body); // the queue (1) is full: refused at once
    third.finish();
    t.match(
      await third.reply,
      /^HTTP\/1\.1 503 [\s\S]*retry-after: 1[\s\S]*"error":"review refused: 1 reviews already wait for memory \(memory budget 0\.0 MiB/i,
    );
    second.finish();
    t.match(
      await second.reply,
      /^HTTP\/1\.1 503 [\s\S]*no room for \d+ bytes within 200 ms/,
      'the waiting one is refused after queueMs',
    );
    t.same(refusals, ['queue-full', 'queue-timeout'], 'each refusal reported with its reason');
    first.finish();
    t.match(await first.reply, /^HTTP\/1\.1 200 /, 'the one holding the budget is judged');
    const after = await webhook.post('/validate', body);
    t.equal(after.status, 200, 'its reservation was returned: the next review fits at once');
  },
);

t.test('a waiting review is admitted as soon as the budget frees', async (t) => {
  const webhook = await startWebhook(t, {
    deps: { bodyLimit: 64 * 1024, memory: { maxBytes: 50 * 1024, queueMs: 5_000 } },
  });
  const body = reviewOf(40 * 1024);
  const first = await startReview(webhook.port, body);
  const second = await startReview(webhook.port, body);
  second.finish();
  await new Promise((resolve) => setTimeout(resolve, 50));
  first.finish();
  t.match(await first.reply, /^HTTP\/1\.1 200 /);
  t.match(await second.reply, /^HTTP\/1\.1 200 /, 'judged after the first one freed its bytes');
});

t.test('the budget is sized from --max-old-space-size, never below one largest body', async (t) => {
  t.equal(oldSpaceLimit(['--max-old-space-size=256']), 256 * MiB);
  t.equal(
    oldSpaceLimit(['--max-old-space-size=256', '--max_old_space_size=512']),
    512 * MiB,
    'the last flag wins, as in V8',
  );
  t.equal(bodyBudgetFor(256 * MiB), Math.floor((160 * MiB) / 24));
  t.equal(bodyBudgetFor(1024 * MiB), Math.floor((928 * MiB) / 24));
  t.equal(bodyBudgetFor(128 * MiB), BODY_LIMIT, 'a small heap still takes one largest body');
});
