import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import t from 'tap';
import { runCheckInProcess } from './run-check.ts';

/** The schema docs/check-output.md publishes, read from the page itself. */
function publishedSchema(): object {
  const page = readFileSync('docs/check-output.md', 'utf8');
  const block = /```json schema\n([\s\S]*?)\n```/.exec(page);
  if (block?.[1] === undefined) throw new Error('docs/check-output.md has no ```json schema block');
  return JSON.parse(block[1]) as object;
}

const validate = new Ajv({ allErrors: true }).compile(publishedSchema());

t.test('check --output json matches the schema docs/check-output.md publishes', async (t) => {
  const runs = [
    await runCheckInProcess(['-f', 'test/fixtures/check/denied.yaml', '-o', 'json']),
    await runCheckInProcess(['-f', 'test/fixtures/check/admitted.yaml', '-o', 'json']),
    // A waived finding carries waivedBy.
    await runCheckInProcess(
      [
        '-f',
        'test/fixtures/check/denied.yaml',
        '--exceptions',
        'test/fixtures/check/waiver-egress-anywhere.yaml',
        '-o',
        'json',
      ],
      { now: new Date('2026-11-25T12:00:00Z') },
    ),
  ];
  t.same(
    runs.map((run) => run.code),
    [1, 0, 0],
  );
  for (const run of runs) {
    const document: unknown = JSON.parse(run.stdout);
    t.ok(validate(document), JSON.stringify(validate.errors));
  }
  const waived = JSON.parse(runs[2]?.stdout ?? '{}');
  t.match(waived.results[0].findings[0], {
    rule: 'NP004',
    level: 'warn',
    waivedBy: { name: String },
  });
});

t.test('the published schema can fail: a result missing its verdict is refused', async (t) => {
  const run = await runCheckInProcess(['-f', 'test/fixtures/check/denied.yaml', '-o', 'json']);
  const document = JSON.parse(run.stdout);
  delete document.results[0].verdict;
  t.notOk(validate(document));
});
