import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import type { Protocol } from '../../src/reach/model.ts';
import { buildGraph } from '../../src/reach/world.ts';
import '../helpers/property.ts';

// Properties of the Kubernetes model on the truth-table grid, over random policies.
const grid = parseAllDocuments(readFileSync('test/fixtures/reach/grid.yaml', 'utf8')).map(
  (doc) => doc.toJS() as Record<string, unknown>,
);
const PODS = ['x/a', 'x/b', 'x/c', 'y/a', 'y/b', 'y/c', 'z/a', 'z/b', 'z/c'];
const PROBES: [number, Protocol][] = [
  [80, 'TCP'],
  [81, 'TCP'],
  [80, 'UDP'],
];

const value = fc.constantFrom('a', 'b', 'c');
const selector = fc.oneof(
  fc.constant({}),
  value.map((v) => ({ matchLabels: { pod: v } })),
  fc
    .subarray(['a', 'b', 'c'], { minLength: 1 })
    .map((values) => ({ matchExpressions: [{ key: 'pod', operator: 'NotIn', values }] })),
);
const nsSelector = fc.constantFrom('x', 'y', 'z').map((v) => ({ matchLabels: { ns: v } }));
const peer = fc.oneof(
  fc.record({ podSelector: selector }),
  fc.record({ namespaceSelector: nsSelector, podSelector: selector }),
  fc
    .constantFrom('10.244.1.0/24', '10.244.2.2/32', '10.244.0.0/16')
    .map((cidr) => ({ ipBlock: { cidr, except: ['10.244.3.0/30'] } })),
);
const ports = fc.option(
  fc.subarray(
    [
      { port: 80 },
      { port: 'serve-81-tcp' },
      { protocol: 'UDP', port: 80 },
      { port: 79, endPort: 81 },
    ],
    { minLength: 1 },
  ),
  { nil: undefined },
);
const rule = (field: 'from' | 'to') =>
  fc.record({
    [field]: fc.option(fc.array(peer, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    ports,
  });
let counter = 0;
const policy = fc
  .record({
    namespace: fc.constantFrom('x', 'y', 'z'),
    podSelector: selector,
    ingress: fc.array(rule('from'), { maxLength: 2 }),
    egress: fc.array(rule('to'), { maxLength: 2 }),
  })
  .map(({ namespace, podSelector, ingress, egress }) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `p${++counter}`, namespace },
    spec: { podSelector, policyTypes: ['Ingress', 'Egress'], ingress, egress },
  }));
const denyAll = ['x', 'y', 'z'].map((ns) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'deny', namespace: ns },
  spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
}));

function allowed(policies: readonly Record<string, unknown>[]): Set<string> {
  const graph = buildGraph([...grid, ...denyAll, ...policies]);
  const out = new Set<string>();
  for (const [port, protocol] of PROBES) {
    for (const from of PODS)
      for (const to of PODS) {
        const src = graph.workload(from);
        const dst = graph.workload(to);
        if (src === undefined || dst === undefined) throw new Error('grid');
        const verdict = graph.decide(src, dst, port, protocol);
        if (verdict.allowed !== (verdict.egress.allowed && verdict.ingress.allowed))
          throw new Error('allowed is not egress AND ingress');
        if (verdict.egress.allowed) out.add(`E ${from} ${to} ${protocol}/${port}`);
        if (verdict.ingress.allowed) out.add(`I ${from} ${to} ${protocol}/${port}`);
      }
  }
  return out;
}

t.test(
  'policies are additive: each side of A and B together allows exactly what A or B allows',
  async (t) => {
    fc.assert(
      fc.property(
        fc.array(policy, { maxLength: 3 }),
        fc.array(policy, { maxLength: 3 }),
        (a, b) => {
          const both = allowed([...a, ...b]);
          const union = new Set([...allowed(a), ...allowed(b)]);
          return both.size === union.size && [...union].every((key) => both.has(key));
        },
      ),
    );
    t.pass('additivity held on 60 random pairs of policy sets');
  },
);

t.test('with every pod isolated, no policy means no connection but a pod to itself', async (t) => {
  const left = [...allowed([])];
  t.equal(left.length, PODS.length * PROBES.length * 2, 'each pod, each probe, both sides');
  t.ok(
    left.every((key) => key.split(' ')[1] === key.split(' ')[2]),
    'only a pod reaching itself (Kubernetes: a pod cannot block access to itself)',
  );
});
