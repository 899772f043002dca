import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { loadWorld } from '../../src/world.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook } from '../helpers/webhook.ts';

const NOW = new Date('2026-11-22T00:00:00Z');

t.test(
  'the audit line: one "name" key (the logger\'s), the object under "object", and which waiver waived what',
  async (t) => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter((line) => line !== ''),
        );
        done();
      },
    });
    const world = loadWorld({
      config: 'policies/guardrails.yaml',
      exceptions: 'test/fixtures/exceptions/waivers.yaml',
    });
    const webhook = await startWebhook(t, {
      context: () => world.context(NOW),
      deps: { logger: pino({ level: 'info', base: { name: 'netguard' } }, sink) },
    });
    const crawler = loadOne('test/fixtures/exceptions/crawler-deployment.yaml');
    t.equal(
      (await webhook.post('/validate', reviewFor(crawler))).json().response.allowed,
      true,
      'POD002 waived',
    );
    const line = lines.find((text) => text.includes('"audit":true'));
    if (line === undefined) return t.fail('no audit line');
    t.equal(
      line.match(/"name":/g)?.length,
      1,
      'no duplicate key (Elasticsearch rejects the document otherwise)',
    );
    const record = JSON.parse(line);
    t.equal(record.name, 'netguard');
    t.equal(record.object, 'crawler');
    t.equal(record.namespace, 'prod-crawl');
    t.same(record.waivedBy, ['POD002:prod-crawl/crawler-labels']);
    t.ok(record.rules.includes('POD002:warn'));
  },
);
