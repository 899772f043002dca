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
