/**
 * No fixture goes stale: an `expires`, `notAfter` or `time` later than 2000-01-01 is either relative
 * to the run's clock (`{{now+14d}}`, see test/helpers/dates.ts) or sits on a line that says why it is
 * fixed (`# fixed-date: the test pins its clock to ...`). A fixed future date is how the suite once
 * went red on a fresh clone the day an expiry passed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { resolveDates } from '../helpers/dates.ts';

const ROOT = 'test/fixtures';
const DATED_FIELD =
  /["']?\b(expires|notAfter|time)\b["']?\s*:\s*["']?(\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+)?(?:Z|[+-]\d{2}:?\d{2})?)/g;
const EPOCH = Date.parse('2000-01-01T00:00:00Z');
/** Formats without comments say why here instead. */
const FIXED_DATE_FILES: Readonly<Record<string, string>> = {
  'test/fixtures/cluster/expected-audit.json':
    'the output audit.test.ts expects with its clock pinned to 2026-11-22',
};

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Every fixed date past 2000 on a line without a `# fixed-date: why`, as `file:line field=value`. */
export function staleDates(text: string, file: string): string[] {
  return text.split('\n').flatMap((line, index) => {
    if (/#\s*fixed-date:\s*\S/.test(line)) return [];
    return [...line.matchAll(DATED_FIELD)]
      .filter((match) => Date.parse(match[2] ?? '') >= EPOCH)
      .map((match) => `${file}:${index + 1} ${match[1]}=${match[2]}`);
  });
}

t.test('fixtures hold no fixed date past 2000 without saying why', async (t) => {
  const found = [...files(ROOT)]
    .filter((file) => FIXED_DATE_FILES[file] === undefined)
    .flatMap((file) => staleDates(readFileSync(file, 'utf8'), file));
  t.same(found, [], 'use {{now+Nd}} or add `# fixed-date: why` (the test pins its clock)');
});

t.test('the scan catches what it is for', async (t) => {
  t.same(staleDates('  expires: "2026-12-01T00:00:00Z"', 'a.yaml'), [
    'a.yaml:1 expires=2026-12-01T00:00:00Z',
  ]);
  t.same(staleDates('{"time":"2026-11-24T09:01:12.209458Z","x":1}', 'f.json'), [
    'f.json:1 time=2026-11-24T09:01:12.209458Z',
  ]);
  t.same(staleDates('    notAfter: 2031-01-01', 'c.yaml'), ['c.yaml:1 notAfter=2031-01-01']);
  t.same(staleDates('  expires: "2026-12-01T00:00:00Z" # fixed-date: clock pinned', 'a.yaml'), []);
  t.same(
    staleDates('  expires: "1999-12-01T00:00:00Z"', 'a.yaml'),
    [],
    'before 2000 is plainly past',
  );
  t.same(staleDates('  expires: "{{now+14d}}"', 'a.yaml'), [], 'relative dates are the point');
  t.same(
    staleDates('  expires: "2026-12-01T00:00:00Z" #', 'a.yaml').length,
    1,
    'a reason is required',
  );
});

t.test('relative dates resolve against the clock given', async (t) => {
  const now = new Date('2030-06-15T10:20:30.456Z');
  t.equal(resolveDates('expires: "{{now+14d}}"', now), 'expires: "2030-06-29T10:20:30Z"');
  t.equal(
    resolveDates('at: "{{now-2h}}" and "{{now}}"', now),
    'at: "2030-06-15T08:20:30Z" and "2030-06-15T10:20:30Z"',
  );
  t.equal(resolveDates('{{now+30m}}', now), '2030-06-15T10:50:30Z');
});
