import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import type { Protocol } from '../../src/reach/model.ts';
import { buildGraph } from '../../src/reach/world.ts';
import { propertyRuns } from '../helpers/property.ts';

// A NetworkPolicy and a CiliumNetworkPolicy with the same L3/L4 meaning give the same reach
// answers, alone and mixed with other NetworkPolicies. Selectors, namespace peers, ports (numbers,
// names, ranges), peerless rules and rules without ports are translated field by field; ipBlocks
// are left out on purpose: Cilium CIDRs never select pods (cilium-cases.yaml holds that control).
const grid = parseAllDocuments(readFileSync('test/fixtures/reach/grid.yaml', 'utf8')).map(
  (doc) => doc.toJS() as Record<string, unknown>,
);
const PODS = ['x/a', 'x/b', 'x/c', 'y/a', 'y/b', 'y/c', 'z/a', 'z/b', 'z/c'];
const PROBES: [number, Protocol][] = [
  [80, 'TCP'],
  [81, 'TCP'],
  [80, 'UDP'],
];

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
interface NpPeer {
  namespace?: string;
  pods: Selector;
}
interface NpPort {
  protocol?: 'UDP';
  port: number | string;
  endPort?: number;
}
interface NpRule {
  peers: NpPeer[] | undefined;
  ports: NpPort[] | undefined;
}
interface Written {
  name: string;
  namespace: string;
  subject: Selector;
  ingress: NpRule[];
  egress: NpRule[];
}

const value = fc.constantFrom('a', 'b', 'c');
const selector: fc.Arbitrary<Selector> = fc.oneof(
  fc.constant({}),
  value.map((v) => ({ matchLabels: { pod: v } })),
  fc
    .subarray(['a', 'b', 'c'], { minLength: 1 })
    .map((values) => ({ matchExpressions: [{ key: 'pod', operator: 'NotIn', values }] })),
);
const peer: fc.Arbitrary<NpPeer> = fc.record(
  { namespace: fc.constantFrom('x', 'y', 'z'), pods: selector },
  { requiredKeys: ['pods'] },
);
const ports = fc.option(
  fc.subarray<NpPort>(
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
const rule: fc.Arbitrary<NpRule> = fc.record({
  peers: fc.option(fc.array(peer, { minLength: 1, maxLength: 2 }), { nil: undefined }),
  ports,
});
let counter = 0;
const written: fc.Arbitrary<Written> = fc
  .record({
    namespace: fc.constantFrom('x', 'y', 'z'),
    subject: selector,
    ingress: fc.array(rule, { maxLength: 2 }),
    egress: fc.array(rule, { maxLength: 2 }),
  })
  .map((w) => ({ ...w, name: `p${++counter}` }));

function networkPolicy(w: Written): Record<string, unknown> {
  const rules = (side: 'from' | 'to', list: NpRule[]) =>
    list.map((r) => ({
      ...(r.peers === undefined
        ? {}
        : {
            [side]: r.peers.map((p) => ({
              ...(p.namespace === undefined
                ? {}
                : { namespaceSelector: { matchLabels: { ns: p.namespace } } }),
              podSelector: p.pods,
            })),
          }),
      ...(r.ports === undefined ? {} : { ports: r.ports }),
    }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: w.name, namespace: w.namespace },
    spec: {
      podSelector: w.subject,
      policyTypes: ['Ingress', 'Egress'],
      ingress: rules('from', w.ingress),
      egress: rules('to', w.egress),
    },
  };
}

/** The same policy in Cilium's words: a namespace peer as a namespace-label requirement, no rules as `{}`. */
function ciliumPolicy(w: Written): Record<string, unknown> {
  const endpoint = (p: NpPeer): Selector => ({
    ...p.pods,
    matchLabels: {
      ...(p.pods.matchLabels ?? {}),
      ...(p.namespace === undefined
        ? {}
        : { 'k8s:io.cilium.k8s.namespace.labels.ns': p.namespace }),
    },
  });
  const toPorts = (list: NpPort[]) => [
    {
      ports: list.map((p) => ({
        port: String(p.port),
        protocol: p.protocol ?? 'TCP',
        ...(p.endPort === undefined ? {} : { endPort: p.endPort }),
      })),
    },
  ];
  const rules = (side: 'from' | 'to', list: NpRule[]) =>
    list.length === 0
      ? [{}]
      : list.map((r) => {
          const l4 = r.ports === undefined ? {} : { toPorts: toPorts(r.ports) };
          if (r.peers !== undefined) return { [`${side}Endpoints`]: r.peers.map(endpoint), ...l4 };
          // No peer: every peer (with ports, Cilium's L4-only rule; without, entity all).
          return r.ports === undefined ? { [`${side}Entities`]: ['all'] } : l4;
        });
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: w.name, namespace: w.namespace },
    spec: {
      endpointSelector: w.subject,
      ingress: rules('from', w.ingress),
      egress: rules('to', w.egress),
    },
  };
}

function answers(policies: readonly Record<string, unknown>[]): string[] {
  const graph = buildGraph([...grid, ...policies]);
  const out: string[] = [];
  for (const [port, protocol] of PROBES)
    for (const from of PODS)
      for (const to of PODS) {
        const src = graph.workload(from);
        const dst = graph.workload(to);
        if (src === undefined || dst === undefined) throw new Error('grid');
        const v = graph.decide(src, dst, port, protocol);
        out.push(`${from} ${to} ${protocol}/${port} ${v.egress.allowed} ${v.ingress.allowed}`);
      }
  return out;
}

t.test(
  'a NetworkPolicy and a CiliumNetworkPolicy meaning the same give the same answers',
  async (t) => {
    let isolating = 0;
    fc.assert(
      fc.property(
        fc.array(written, { minLength: 1, maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        (policies, asCilium) => {
          const kube = policies.map(networkPolicy);
          // Some or all of them in Cilium's words: Cilium unions their allows with the NetworkPolicies'.
          const mixed = policies.map((w, i) =>
            asCilium[i] === true ? ciliumPolicy(w) : networkPolicy(w),
          );
          const allCilium = policies.map(ciliumPolicy);
          const expected = answers(kube).join('\n');
          if (expected.includes('false')) isolating++;
          return (
            answers(mixed).join('\n') === expected && answers(allCilium).join('\n') === expected
          );
        },
      ),
    );
    t.ok(isolating > 50, `most random policy sets cut something (${isolating} did)`);
  },
);

t.test('hostile dialect policies never crash reach: every answer is still an answer', async (t) => {
  const kinds = fc.constantFrom(
    ['cilium.io/v2', 'CiliumNetworkPolicy'],
    ['cilium.io/v2', 'CiliumClusterwideNetworkPolicy'],
    ['policy.networking.k8s.io/v1alpha2', 'ClusterNetworkPolicy'],
    ['policy.networking.k8s.io/v1alpha1', 'AdminNetworkPolicy'],
    ['projectcalico.org/v3', 'NetworkPolicy'],
  );
  // Shapes close to the real ones, with hostile values where a field is expected.
  const hostile = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({
      endpointSelector: fc.jsonValue({ maxDepth: 2 }),
      subject: fc.jsonValue({ maxDepth: 2 }),
      tier: fc.constantFrom('Admin', 'Baseline', 7, null),
      priority: fc.oneof(fc.integer(), fc.double(), fc.string()),
      ingress: fc.array(
        fc.record({
          action: fc.constantFrom('Accept', 'Deny', 'Pass', 'Allow', 'Nope', 3),
          from: fc.jsonValue({ maxDepth: 2 }),
          fromEntities: fc.array(fc.oneof(fc.string(), fc.constantFrom('all', 'world', 'cluster'))),
          toPorts: fc.jsonValue({ maxDepth: 3 }),
          protocols: fc.jsonValue({ maxDepth: 3 }),
        }),
        { maxLength: 3 },
      ),
      egressDeny: fc.jsonValue({ maxDepth: 3 }),
      enableDefaultDeny: fc.jsonValue({ maxDepth: 1 }),
    }),
  );
  let answered = 0;
  fc.assert(
    fc.property(fc.array(fc.tuple(kinds, hostile), { maxLength: 3 }), (written) => {
      const policies = written.map(([[apiVersion, kind], spec], index) => ({
        apiVersion,
        kind,
        metadata: { name: `h${index}`, namespace: 'x' },
        spec,
      }));
      const graph = buildGraph([...grid, ...policies]);
      const src = graph.workload('x/a');
      const dst = graph.workload('y/b');
      if (src === undefined || dst === undefined) throw new Error('grid');
      const verdict = graph.decide(src, dst, 80, 'TCP');
      graph.connections('x');
      graph.unmodelledNotes();
      answered++;
      return typeof verdict.allowed === 'boolean';
    }),
  );
  t.equal(answered, propertyRuns().numRuns, 'every run answered');
});
