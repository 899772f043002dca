import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import t from 'tap';

const ROOT = resolve(import.meta.dirname, '../..');
const DOC = 'docs/architecture.md';

t.test(`every path ${DOC} names exists, so its walk-throughs stay true`, async (t) => {
  const text = readFileSync(resolve(ROOT, DOC), 'utf8');
  // `src/x/y.ts`, `deploy/base/z.yaml`, `test/...`: paths spelled from the repository root.
  const paths = [...text.matchAll(/`((?:src|deploy|test|docs)\/[\w./-]+)`/g)].map(
    (match) => match[1] ?? '',
  );
  t.ok(paths.length > 20, `the doc names files (${paths.length})`);
  t.same(
    paths.filter((path) => !existsSync(resolve(ROOT, path))),
    [],
  );
});
