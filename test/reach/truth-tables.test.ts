import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import type { Protocol } from '../../src/reach/model.ts';
import { buildGraph } from '../../src/reach/world.ts';

// The upstream network-policy e2e truth tables on the 3x3 grid (see the fixture's header).
const FIXTURES = 'test/fixtures/reach';
const grid = parseAllDocuments(readFileSync(`${FIXTURES}/grid.yaml`, 'utf8')).map(
  (doc) => doc.toJS() as Record<string, unknown>,
);

interface Probe {
  port: number;
  protocol: Protocol;
  expect: string[];
  matrix: string;
}
interface Case {
  name: string;
  upstream: string;
  policies: { metadata: Record<string, unknown>; spec: Record<string, unknown> }[];
  probes: Probe[];
}
const cases = parse(readFileSync(`${FIXTURES}/truth-tables.yaml`, 'utf8')) as Case[];
const PODS = ['x/a', 'x/b', 'x/c', 'y/a', 'y/b', 'y/c', 'z/a', 'z/b', 'z/c'];

let cells = 0;
for (const testCase of cases) {
  t.test(`${testCase.name} (upstream: ${testCase.upstream})`, (t) => {
    const policies = testCase.policies.map((policy) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      ...policy,
    }));
    const graph = buildGraph([...grid, ...policies]);
    for (const probe of testCase.probes) {
      const rows = PODS.map((from) => {
        const src = graph.workload(from);
        const marks = PODS.map((to, column) => {
          const dst = graph.workload(to);
          if (src === undefined || dst === undefined)
            throw new Error(`grid lacks ${from} or ${to}`);
          cells++;
          // Loopback is the CNI's (upstream calls AllowLoopback, Cyclonus --ignore-loopback): compare it as published.
          if (src === dst) return probe.matrix.split('\n')[PODS.indexOf(from)]?.[4 + column] ?? '?';
          return graph.decide(src, dst, probe.port, probe.protocol).allowed ? '.' : 'X';
        });
        return `${from} ${marks.join('')}`;
      });
      t.equal(
        `${rows.join('\n')}\n`,
        probe.matrix,
        `${probe.protocol}/${probe.port}: ${probe.expect.join(', ') || 'all allowed'}`,
      );
    }
    t.end();
  });
}

t.test('the fixture holds the cases the report counts', (t) => {
  t.equal(cases.length, 45, 'cases');
  t.equal(cases.flatMap((c) => c.probes).length, 59, 'probes (one 9x9 matrix each)');
  t.end();
});

t.teardown(() => {
  if (cells > 0) t.comment(`${cases.length} cases, ${cells} matrix cells`);
});
