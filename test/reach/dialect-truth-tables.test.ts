import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { parseCidr } from '../../src/cidr.ts';
import type { ReachGraph } from '../../src/reach/graph.ts';
import type { Endpoint, Protocol } from '../../src/reach/model.ts';
import { buildGraph } from '../../src/reach/world.ts';

// Cilium and ClusterNetworkPolicy cases on the upstream 3x3 grid (see each fixture's header).
const grid = parseAllDocuments(readFileSync('test/fixtures/reach/grid.yaml', 'utf8')).map(
  (doc) => doc.toJS() as Record<string, unknown>,
);

interface Probe {
  from: string;
  to: string;
  port: number;
  protocol?: Protocol;
  allowed: boolean;
  egress?: string[];
  ingress?: string[];
}
interface Case {
  name: string;
  policies: Record<string, unknown>[];
  probes: Probe[];
}

/** A workload of the grid, an address, or `entity:<name>@<address>` (a Cilium reserved entity). */
function endpoint(graph: ReachGraph, text: string): Endpoint {
  const workload = graph.workload(text);
  if (workload !== undefined) return workload;
  const entity = /^entity:(host|remote-node|kube-apiserver)@(.+)$/.exec(text);
  const address = entity?.[2] ?? text;
  const range = parseCidr(`${address}/${address.includes(':') ? 128 : 32}`);
  if (range === undefined) throw new Error(`${text} is neither a workload nor an address`);
  const known = entity === null ? graph.workloadAt(range) : undefined;
  if (known !== undefined) return known;
  return {
    kind: 'external',
    id: text,
    address: range,
    ...(entity === null ? {} : { entity: entity[1] as 'host' | 'remote-node' | 'kube-apiserver' }),
  };
}

for (const file of ['cilium-cases.yaml', 'cluster-network-policy-cases.yaml']) {
  const cases = parse(readFileSync(`test/fixtures/reach/dialects/${file}`, 'utf8')) as Case[];
  t.test(file, async (t) => {
    t.ok(cases.length >= 6, 'the fixture holds its cases');
    for (const testCase of cases) {
      t.test(testCase.name, async (t) => {
        const graph = buildGraph([...grid, ...testCase.policies]);
        for (const probe of testCase.probes) {
          const protocol = probe.protocol ?? 'TCP';
          const what = `${probe.from} → ${probe.to} ${protocol}/${probe.port}`;
          const verdict = graph.decide(
            endpoint(graph, probe.from),
            endpoint(graph, probe.to),
            probe.port,
            protocol,
          );
          t.equal(
            verdict.allowed,
            probe.allowed,
            `${what}: ${probe.allowed ? 'allowed' : 'denied'}`,
          );
          if (probe.egress !== undefined)
            t.same(verdict.egress.policies, probe.egress, `${what}: egress decided by`);
          if (probe.ingress !== undefined)
            t.same(verdict.ingress.policies, probe.ingress, `${what}: ingress decided by`);
        }
      });
    }
  });
}
