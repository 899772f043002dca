import { request } from 'node:https';
import { connect } from 'node:tls';
import t from 'tap';
import { BODY_BYTES_BUDGET, BODY_LIMIT } from '../../src/server/body-budget.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startServeProcess } from '../helpers/serve-process.ts';

const MiB = 1024 * 1024;

/** One review on its own TLS connection: status and body, or the socket error (a crash shows as ECONNRESET). */
function post(
  port: number,
  ca: string,
  body: string,
): Promise<{ status: number | string; text: string }> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/validate',
        method: 'POST',
        ca,
        servername: 'netguard.netguard-system.svc',
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (err: NodeJS.ErrnoException) =>
          resolve({ status: err.code ?? err.message, text: '' }),
        );
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ status: err.code ?? err.message, text: '' }),
    );
    req.end(body);
  });
}

/** Sends only the headers of a POST declaring `length` bytes; resolves with what the server answers. */
function headersOnly(port: number, ca: string, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, ca, servername: 'netguard.netguard-system.svc' },
      () => {
        socket.write(
          `POST /validate HTTP/1.1\r\nHost: netguard\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
        );
      },
    );
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.on('error', reject);
  });
}

/** The shape: a small Deployment whose object carries `[{},{},...]` up to `bytes` (each `{}` becomes a JS object). */
function tinyObjectsReview(namespace: string, bytes: number): string {
  const deployment = loadOne('test/fixtures/workloads/deployment-labelled.yaml');
  const base = JSON.stringify(
    reviewFor({ ...deployment, metadata: { ...(deployment['metadata'] as object), namespace } }),
  );
  const count = Math.floor((bytes - base.length - 20) / 3);
  return base.replace('"spec":{', `"spec":{"junk":[${'{},'.repeat(count)}{}],`);
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

t.test(
  "six largest hostile bodies at once under the Deployment's heap flags: each gets an AdmissionReview, never a crash; then a good review is answered",
  async (t) => {
    // The heap flags the shipped Deployment gives (deploy/base/deployment.yaml, NODE_OPTIONS).
    const server = await startServeProcess(t, {
      nodeArgs: ['--max-old-space-size=256', '--max-semi-space-size=16'],
    });
    const started = server.logs.find((entry) => entry['bodyBudget'] !== undefined);
    t.equal(started?.['bodyLimit'], BODY_LIMIT, 'the start line states the body limit');
    t.equal(started?.['bodyBudget'], BODY_BYTES_BUDGET, 'and the bytes of bodies held at once');

    const big = tinyObjectsReview('prod-shop', BODY_LIMIT - 64 * 1024);
    const replies = await Promise.all(
      Array.from({ length: 6 }, () => post(server.port, server.ca, big)),
    );
    // Parsed one at a time; on a loaded machine the last may still be waiting to be read when
    // the 10 s body deadline drops it (408, or a reset while the client still writes): the API
    // server would have given up by then too. Never a crash, a 5xx or another answer.
    const statuses = replies.map((reply) => reply.status);
    t.ok(
      statuses.every((status) => [200, 408, 'ECONNRESET', 'EPIPE'].includes(status)),
      `each body got an AdmissionReview or was dropped at the deadline: ${statuses.join(', ')}`,
    );
    t.ok(statuses.includes(200), 'the first ones in were answered');
    for (const reply of replies.filter((r) => r.status === 200)) {
      const response = JSON.parse(reply.text).response;
      t.equal(response.allowed, false, 'denied');
      t.match(
        response.status.message,
        /netguard review bound at request\.object: this Deployment has more than 100,000 JSON values/,
      );
    }
    t.comment(`statuses: ${statuses.join(', ')}`);

    const tooLarge = await headersOnly(server.port, server.ca, BODY_LIMIT + 1);
    t.match(
      tooLarge,
      /^HTTP\/1\.1 413 /,
      'a body over the limit is refused on its Content-Length, before a byte of it is read',
    );

    const good = loadOne('test/fixtures/workloads/deployment-missing-tier.yaml');
    const answer = await post(
      server.port,
      server.ca,
      JSON.stringify(
        reviewFor({
          ...good,
          metadata: { ...(good['metadata'] as object), namespace: 'prod-shop' },
        }),
      ),
    );
    t.equal(answer.status, 200);
    const response = JSON.parse(answer.text).response;
    t.equal(response.allowed, false, 'the good review is judged as before');
    t.match(response.status.message, /POD001 required-labels at spec\.template\.metadata\.labels/);
    t.equal(
      await metric(server.metricsUrl, 'netguard_review_body_bytes_in_flight'),
      0,
      'every byte released',
    );
    t.equal(server.child.exitCode, null, 'still running');
    t.ok(server.peakRss() < 512 * MiB, "peak RSS stayed under the Deployment's 512Mi memory limit");
    t.comment(`peak RSS ${(server.peakRss() / MiB).toFixed(0)} MiB`);
  },
);
