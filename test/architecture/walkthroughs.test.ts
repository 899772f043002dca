/**
 * docs/architecture.md's three walk-throughs (a new rule, a new exception source, a new output
 * format) say a change is one module plus one line in a list. These hold the code to that claim:
 * a module that is not on its list, or a source compared by name outside its own module, fails.
 * (That every file the walk-throughs name exists is docs-paths.test.ts.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import t from 'tap';
import { CHECK_FORMATS } from '../../src/cli/check.ts';
import { FILE_SOURCE } from '../../src/exceptions/file-source.ts';
import { CLUSTER_SOURCES } from '../../src/exceptions/sources.ts';
import { RULES_BY_ID } from '../../src/rules/registry.ts';
import { granted } from '../helpers/rbac.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');
const DOC = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** The exports of every module in a folder of src/. */
async function exportsOf(folder: string): Promise<[string, string, unknown][]> {
  const found: [string, string, unknown][] = [];
  for (const file of sourceFiles(join(SRC, folder))) {
    const module: Record<string, unknown> = await import(file);
    for (const [name, value] of Object.entries(module))
      found.push([relative(SRC, file), name, value]);
  }
  return found;
}

/** The paragraph of "Where a change goes" that starts with `**title**`. */
function walkThrough(title: string): string {
  const start = DOC.indexOf(`- **${title}**`);
  const next = DOC.indexOf('\n- **', start + 1);
  return start < 0 ? '' : DOC.slice(start, next < 0 ? undefined : next);
}

t.test('a new rule: every rule a module of src/rules/ exports is on the registry', async (t) => {
  const text = walkThrough('A new rule');
  t.match(text, '`src/rules/guardrails.ts`', 'the walk-through names the list');
  t.match(text, '`src/model/kinds.ts`', 'and, for a new kind, the kinds table');
  const rules = (await exportsOf('rules')).filter(
    ([, , value]) =>
      isRecord(value) &&
      typeof value['id'] === 'string' &&
      typeof value['check'] === 'function' &&
      Array.isArray(value['kinds']),
  );
  t.ok(rules.length >= 20, `rule exports found (${rules.length})`);
  t.same(
    rules
      .filter(([, , value]) => isRecord(value) && !RULES_BY_ID.has(String(value['id'])))
      .map(([file, name]) => `${file}: ${name}`),
    [],
    'no rule module left off the list',
  );
});

t.test('a new exception source: one module, one line in CLUSTER_SOURCES', async (t) => {
  const text = walkThrough('A new exception source');
  t.match(text, '`src/exceptions/sources.ts`', 'the walk-through names the list');
  t.match(text, '`deploy/base/rbac.yaml`', 'and the read access');
  const sources = (await exportsOf('exceptions')).filter(
    ([, , value]) =>
      isRecord(value) &&
      typeof value['trusted'] === 'boolean' &&
      typeof value['renewal'] === 'function',
  );
  t.same(
    sources
      .filter(([, , value]) => value !== FILE_SOURCE && !CLUSTER_SOURCES.some((s) => s === value))
      .map(([file, name]) => `${file}: ${name}`),
    [],
    'every source a module defines is the file or on CLUSTER_SOURCES',
  );
  const names = [FILE_SOURCE, ...CLUSTER_SOURCES].map((source) => source.name);
  t.same(names, [...new Set(names)], 'source names are distinct (exception list shows them)');
  const caches = CLUSTER_SOURCES.map((source) => source.what);
  t.same(caches, [...new Set(caches)], 'cache names are distinct (readiness names them)');
  // serve's caches list and watch each source's collection as the webhook's ClusterRole.
  for (const source of CLUSTER_SOURCES) {
    const { group, resource } = collectionOf(source.path());
    t.same(
      ['list', 'watch'].filter(
        (verb) => !granted('deploy/base/rbac.yaml', 'netguard', group, resource).includes(verb),
      ),
      [],
      `deploy/base/rbac.yaml lets netguard list and watch ${resource} (${source.name})`,
    );
  }
});

/** `/apis/netguard.dev/v1alpha1/guardrailexceptions` → netguard.dev, guardrailexceptions. */
function collectionOf(path: string): { group: string; resource: string } {
  const parts = (path.split('?')[0] ?? '').split('/').filter((part) => part !== '');
  return parts[0] === 'api'
    ? { group: '', resource: parts[2] ?? '' }
    : { group: parts[1] ?? '', resource: parts[3] ?? '' };
}

t.test('no code outside a source module asks which source a waiver came from', async (t) => {
  // Trust, renewal and API objects are the source's own fields; a name test is a union in disguise.
  const asked =
    /\.source(?:\.name)?\s*[!=]==?\s*['"`]|source(?:\.name)?\s*[!=]==?\s*'(?:file|cluster)'/;
  t.same(
    sourceFiles(SRC)
      .filter((file) => asked.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file)),
    [],
  );
});

t.test('a new output format: every format of check is documented with --output', async (t) => {
  const text = walkThrough('A new output format');
  t.match(text, '`src/cli/check.ts`', 'the walk-through names the list');
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => readFileSync(join(ROOT, 'docs', name), 'utf8'))
    .join('\n');
  t.same(
    CHECK_FORMATS.filter((format) => format !== 'text' && !docs.includes(`--output ${format}`)),
    [],
  );
});
