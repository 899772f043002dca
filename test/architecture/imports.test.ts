import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

// Static and dynamic imports of our own modules (relative specifiers).
const IMPORT = /(?:from|import\()\s*'(\.{1,2}\/[^']+\.ts)'/g;

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(IMPORT)].map((match) =>
      resolve(dirname(file), match[1] ?? ''),
    );
    graph.set(file, targets);
  }
  return graph;
}

/** Every cycle found by depth-first search, as a list of paths relative to src/. */
function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') {
        const loop = stack.slice(stack.indexOf(next)).concat(next);
        found.push(loop.map((file) => relative(SRC, file)).join(' → '));
      } else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (state.get(node) === undefined) visit(node);
  return found;
}

t.test('src/ has no import cycles', async (t) => {
  const graph = importGraph();
  t.ok(graph.size > 50, 'the graph covers the source tree');
  t.same(cycles(graph), []);
});

t.test('the vocabulary is the ground floor: it imports nothing of ours', async (t) => {
  const graph = importGraph();
  t.same(graph.get(join(SRC, 'vocabulary.ts')), []);
});

t.test('the kube layer sees the engine only through the ClusterView port it fills', async (t) => {
  const graph = importGraph();
  const offenders = [...graph.entries()]
    .filter(([file]) => relative(SRC, file).startsWith('kube/'))
    .flatMap(([file, targets]) =>
      targets
        .filter(
          (target) =>
            relative(SRC, target).startsWith('engine/') &&
            relative(SRC, target) !== 'engine/types.ts',
        )
        .map((target) => `${relative(SRC, file)} → ${relative(SRC, target)}`),
    );
  t.same(offenders, []);
});

// The floors, from the ground up (docs/architecture.md). A folder's unit is its first path segment;
// top-level files are the ground, except the few that do I/O or wire the world, which are adapters.
const TOP_LEVEL_ADAPTERS = new Set([
  'world.ts',
  'live-world.ts',
  'metrics.ts',
  'manifests.ts',
  'kustomize.ts',
  'controller-health.ts',
]);
const FLOORS: readonly (readonly string[])[] = [
  ['ground'],
  ['model', 'semantics', 'config'],
  ['engine'],
  ['exceptions', 'rules', 'mutation'],
  [
    'admission',
    'kube',
    'server',
    'reports',
    'audit',
    'reach',
    'certs',
    'world',
    'live-world',
    'metrics',
    'manifests',
    'kustomize',
    'controller-health',
  ],
  ['cli', 'standalone'],
];

function unitOf(file: string): string {
  const path = relative(SRC, file);
  const [first = '', ...rest] = path.split('/');
  if (rest.length > 0) return first;
  return TOP_LEVEL_ADAPTERS.has(path) ? path.replace(/\.ts$/, '') : 'ground';
}

function floorOf(unit: string): number {
  return FLOORS.findIndex((units) => units.includes(unit));
}

/** Every import between two different units, as `[from file, to file]`. */
function crossings(): [string, string][] {
  return [...importGraph().entries()].flatMap(([file, targets]) =>
    targets
      .filter((target) => unitOf(target) !== unitOf(file))
      .map((target): [string, string] => [file, target]),
  );
}

const arrow = ([from, to]: [string, string]): string =>
  `${relative(SRC, from)} → ${relative(SRC, to)}`;

/** Imports from `folders` into any unit outside `allowed`. */
function importsOutside(folders: readonly string[], allowed: readonly string[]): string[] {
  return crossings()
    .filter(([from, to]) => folders.includes(unitOf(from)) && !allowed.includes(unitOf(to)))
    .map(arrow);
}

t.test('every folder of src/ sits on a floor', async (t) => {
  const units = new Set([...importGraph().keys()].map(unitOf));
  t.same(
    [...units].filter((unit) => floorOf(unit) === -1),
    [],
    'a new folder is placed in FLOORS (and in docs/architecture.md)',
  );
});

t.test('imports point down: at most 3 run back up a floor', async (t) => {
  const back = crossings()
    .filter(([from, to]) => floorOf(unitOf(to)) > floorOf(unitOf(from)))
    .map(arrow);
  t.ok(back.length <= 3, `back arrows: ${back.join(', ') || 'none'}`);
});

t.test('no two folders import each other', async (t) => {
  const pairs = new Set(crossings().map(([from, to]) => `${unitOf(from)} → ${unitOf(to)}`));
  const mutual = [...pairs].filter((pair) => {
    const [from = '', to = ''] = pair.split(' → ');
    return from < to && pairs.has(`${to} → ${from}`);
  });
  t.same(mutual, []);
});

t.test('the engine imports only the model and the ground', async (t) => {
  t.same(importsOutside(['engine'], ['ground', 'model', 'semantics', 'config']), []);
});

t.test('kube/ never imports cli/ or rules/', async (t) => {
  t.same(
    crossings()
      .filter(([from, to]) => unitOf(from) === 'kube' && ['cli', 'rules'].includes(unitOf(to)))
      .map(arrow),
    [],
  );
});

t.test(
  'exceptions/ and config/ never import rules/: the rule list is handed to them',
  async (t) => {
    t.same(
      crossings()
        .filter(
          ([from, to]) => ['exceptions', 'config'].includes(unitOf(from)) && unitOf(to) === 'rules',
        )
        .map(arrow),
      [],
    );
  },
);

t.test(
  'the offline world (world.ts) reaches no cluster adapter: one-shot commands never load the client',
  async (t) => {
    const graph = importGraph();
    const reached = new Set<string>();
    const visit = (file: string): void => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const next of graph.get(file) ?? []) visit(next);
    };
    visit(join(SRC, 'world.ts'));
    t.same(
      [...reached].map((file) => relative(SRC, file)).filter((path) => path.startsWith('kube/')),
      [],
    );
  },
);
