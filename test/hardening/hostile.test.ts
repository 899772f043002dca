import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import t from 'tap';
import { TLS_CIPHERS } from '../../src/server/app.ts';
import { injectableApp } from '../helpers/app.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { localCertificates } from '../helpers/tls.ts';
import { startWebhook } from '../helpers/webhook.ts';

const deployment = () => loadOne('test/fixtures/workloads/deployment-missing-tier.yaml') as any;
const post = (app: ReturnType<typeof injectableApp>, payload: string) =>
  app.inject({
    method: 'POST',
    url: '/validate',
    payload,
    headers: { 'content-type': 'application/json' },
  });

t.test('hostile shapes get an answer, never a crash', async (t) => {
  const app = injectableApp();
  t.teardown(() => app.close());

  t.test('nesting 10,000 deep inside the object', async (t) => {
    const review = reviewFor(deployment());
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const payload = JSON.stringify(review).replace('"replicas":2', `"replicas":2,"deep":${deep}`);
    const reply = await post(app, payload);
    t.equal(reply.statusCode, 200);
    t.equal(reply.json().response.allowed, false, 'still judged: POD001 in production');
  });

  t.test(
    '30,000 labels are judged; 100,000 pass the review bound and are denied naming it',
    async (t) => {
      const withLabels = (count: number) => {
        const object = deployment();
        const labels: Record<string, string> = { app: 'shop-web', tier: 'frontend' };
        for (let i = 0; i < count; i++) labels[`l${i}`] = 'v';
        object.spec.template.metadata.labels = labels;
        return JSON.stringify(reviewFor(object));
      };
      const judged = await post(app, withLabels(30_000));
      t.equal(judged.statusCode, 200);
      t.equal(judged.json().response.allowed, true);
      const bounded = await post(app, withLabels(100_000));
      t.equal(bounded.statusCode, 200);
      t.equal(bounded.json().response.allowed, false);
      t.match(
        bounded.json().response.status.message,
        /this Deployment has more than 100,000 JSON values/,
      );
    },
  );

  t.test('a 1 MB label value and a 1 MB tier are echoed safely', async (t) => {
    const object = deployment();
    object.spec.template.metadata.labels = {
      app: 'x'.repeat(1_000_000),
      tier: `bad\n${'y'.repeat(1_000_000)}`,
    };
    const body = (await post(app, JSON.stringify(reviewFor(object)))).json();
    t.equal(body.response.allowed, false);
    const warnings: string[] = body.response.warnings ?? [];
    t.ok(warnings.every((w) => w.length <= 256 && !/[\n\t]/.test(w)));
  });

  t.test('numbers where strings belong', async (t) => {
    const review = reviewFor(deployment()) as any;
    review.request.uid = 12345;
    const reply = await post(app, JSON.stringify(review));
    t.equal(reply.statusCode, 400);
    t.match(
      reply.json().problems.join('\n'),
      /request\.uid: Invalid input: expected string, received number/,
    );
    const labelNumbers = reviewFor(deployment()) as any;
    labelNumbers.request.object.spec.template.metadata.labels = { app: 7, tier: true };
    const judged = await post(app, JSON.stringify(labelNumbers));
    t.equal(judged.statusCode, 200);
    t.match(
      judged.json().response.status.message,
      /required label "app" \(or app\.kubernetes\.io\/name\) is missing/,
    );
  });

  t.test(
    'prototype keys: __proto__ is refused with a clear 400, constructor is an ordinary label',
    async (t) => {
      const review = JSON.stringify(reviewFor(deployment())).replace(
        '"labels":{"app":"shop-web"}',
        '"labels":{"__proto__":{"tier":"frontend"},"app":"shop-web"}',
      );
      const reply = await post(app, review);
      t.equal(reply.statusCode, 400);
      t.equal(reply.json().error, 'body rejected: Object contains forbidden prototype property');
      const ctor = JSON.stringify(reviewFor(deployment())).replace(
        '"labels":{"app":"shop-web"}',
        '"labels":{"constructor":"x","app":"shop-web","tier":"frontend"}',
      );
      const ok = await post(app, ctor);
      t.equal(ok.statusCode, 200);
      t.equal(ok.json().response.allowed, true);
      t.equal(({} as Record<string, unknown>)['tier'], undefined);
    },
  );
});

t.test('TLS: 1.0 and 1.1 are refused, 1.2 and 1.3 accepted, with the stated ciphers', async (t) => {
  const webhook = await startWebhook(t);
  const { ca } = localCertificates();
  const handshake = (options: {
    minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
    maxVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
    ciphers?: string;
  }) =>
    new Promise<string>((resolve) => {
      const socket = tlsConnect(
        { host: '127.0.0.1', servername: 'localhost', port: webhook.port, ca, ...options },
        () => {
          const version = socket.getProtocol() ?? 'unknown';
          socket.end();
          resolve(version);
        },
      );
      socket.on('error', (err) => resolve(`refused: ${err.message}`));
    });
  t.match(await handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1' }), /^refused/);
  t.match(await handshake({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' }), /^refused/);
  t.equal(await handshake({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }), 'TLSv1.2');
  t.equal(await handshake({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }), 'TLSv1.3');
  t.match(
    await handshake({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' }),
    /^refused/,
    'no CBC, no static RSA',
  );
  t.match(TLS_CIPHERS, /ECDHE-RSA-AES128-GCM-SHA256/);
});

t.test('slow clients are cut off and the server keeps serving', async (t) => {
  const webhook = await startWebhook(t, {
    deps: { timeouts: { connectionMs: 300, requestMs: 300 } },
  });
  const stalledHandshake = await new Promise<string>((resolve) => {
    const socket = netConnect(webhook.port, '127.0.0.1');
    socket.on('close', () => resolve('closed'));
    socket.on('error', () => resolve('closed'));
    socket.write('\u0016\u0003\u0001'); // the first bytes of a TLS hello, then silence
  });
  t.equal(stalledHandshake, 'closed', 'a handshake that never completes');
  const { ca } = localCertificates();
  const stalledHeaders = await new Promise<string>((resolve) => {
    const socket = tlsConnect(
      { host: '127.0.0.1', servername: 'localhost', port: webhook.port, ca },
      () => {
        socket.write('POST /validate HTTP/1.1\r\nHost: localhost\r\n'); // headers never finish
      },
    );
    socket.on('data', (chunk: Buffer) => resolve(chunk.toString('utf8').split('\r\n')[0] ?? ''));
    socket.on('close', () => resolve('closed'));
    socket.on('error', () => resolve('closed'));
  });
  t.match(
    stalledHeaders,
    /^(HTTP\/1\.1 408|closed)/,
    `headers that never finish: ${stalledHeaders}`,
  );
  const reply = await webhook.post('/validate', reviewFor(deployment()));
  t.equal(reply.status, 200);
});
