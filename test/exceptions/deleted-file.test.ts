import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { startWorld } from '../../src/live-world.ts';
import { until } from '../helpers/until.ts';

const names = (world: { registry: { all(): readonly { name: string }[] } }): string[] =>
  world.registry
    .all()
    .map((w) => w.name)
    .sort();

t.test(
  'a deleted exceptions file means no file waivers, for a running replica exactly as for a restarted one',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'netguard-deleted-'));
    const exceptions = join(dir, 'exceptions.yaml');
    copyFileSync('test/fixtures/exceptions/waivers.yaml', exceptions);
    const logger = pino({ level: 'silent' });
    const running = startWorld({ config: 'policies/guardrails.yaml', exceptions, logger });
    t.teardown(() => running.close());
    t.same(
      names(running),
      ['crawler-egress', 'crawler-labels', 'legacy-batch-baseline'],
      'the file waivers load',
    );

    rmSync(exceptions);
    await until(() => running.registry.all().length === 0, 'the deletion to be seen');
    const restarted = startWorld({ config: 'policies/guardrails.yaml', exceptions, logger });
    t.teardown(() => restarted.close());
    t.same(names(running), names(restarted), 'the running and the restarted replica agree');
    t.same(names(restarted), [], 'neither keeps a waiver from a file that is gone');

    copyFileSync('test/fixtures/exceptions/waivers.yaml', exceptions);
    await until(() => running.registry.all().length === 3, 'the file to come back');
    t.pass('a restored file is read again');
  },
);
