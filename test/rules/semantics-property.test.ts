import fc from 'fast-check';
import t from 'tap';
import type { Decision } from '../../src/engine/types.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { opensInternet } from '../../src/model/public-space.ts';
import { ipBlockAddresses, union } from '../../src/semantics/addresses.ts';
import { findingsOf, judge, rulesOf } from './judge.ts';
import '../helpers/property.ts';

/** What a reviewer sees: the verdict, and each rule's level. Paths aside, since spellings differ in items. */
const verdict = (decision: Decision): string =>
  `${decision.allowed} ${rulesOf(decision)
    .map(
      (rule) =>
        `${rule}:${[...new Set(findingsOf(decision, rule).map((f) => f.level))].sort().join('/')}`,
    )
    .join(' ')}`;

const PORT_8080 = [{ protocol: 'TCP', port: 8080 }];

/** `ports: 'omit'` leaves the field out. */
function ingressPolicy(
  peers: unknown[],
  ports: unknown = PORT_8080,
  podSelector: unknown = { matchLabels: { app: 'api' } },
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'generated' },
    spec: {
      podSelector,
      policyTypes: ['Ingress'],
      ingress: [{ from: peers, ...(ports === 'omit' ? {} : { ports }) }],
    },
  };
}

function egressPolicy(
  rules: { to: unknown[]; ports?: unknown }[],
  podSelector: unknown = { matchLabels: { app: 'crawler' } },
): KubeObject {
  const dns = {
    ports: [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ],
  };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'generated' },
    spec: {
      podSelector,
      policyTypes: ['Egress'],
      egress: [...rules.map((rule) => ({ ports: [{ protocol: 'TCP', port: 443 }], ...rule })), dns],
    },
  };
}

const labelKey = fc.constantFrom('team', 'env', 'zone', 'app', 'example.com/owner');
const labelValue = fc.constantFrom('a', 'b', 'payments', 'monitoring', 'x-1');

/** Spellings of "every namespace": no positive requirement. */
const everyNamespace = fc
  .array(
    fc.oneof(
      fc.record({
        key: labelKey,
        operator: fc.constant('NotIn'),
        values: fc.array(labelValue, { minLength: 1, maxLength: 3 }),
      }),
      fc.record({ key: labelKey, operator: fc.constant('DoesNotExist') }),
      fc.constant({ key: 'kubernetes.io/metadata.name', operator: 'Exists' }),
      fc.record({
        key: fc.constant('kubernetes.io/metadata.name'),
        operator: fc.constant('NotIn'),
        values: fc.array(labelValue, { minLength: 1, maxLength: 2 }),
      }),
    ),
    { maxLength: 4 },
  )
  .map((terms) => (terms.length === 0 ? {} : { matchExpressions: terms }));

t.test('equivalent namespaceSelector spellings get the verdict of {}', async (t) => {
  const reference = verdict(judge(ingressPolicy([{ namespaceSelector: {} }])));
  t.match(reference, /NP003:deny/, 'the reference is NP003');
  fc.assert(
    fc.property(
      everyNamespace,
      (selector) => verdict(judge(ingressPolicy([{ namespaceSelector: selector }]))) === reference,
    ),
  );
  // The same namespace by matchLabels or by In: one meaning, one verdict.
  fc.assert(
    fc.property(labelKey, labelValue, (key, value) => {
      const byLabels = verdict(
        judge(ingressPolicy([{ namespaceSelector: { matchLabels: { [key]: value } } }])),
      );
      const byIn = verdict(
        judge(
          ingressPolicy([
            { namespaceSelector: { matchExpressions: [{ key, operator: 'In', values: [value] }] } },
          ]),
        ),
      );
      return byLabels === byIn && !byLabels.includes('NP003');
    }),
  );
});

interface Block {
  readonly first: number;
  readonly prefix: number;
}

const ipv4 = (n: number): string => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
const cidrOf = (block: Block, mapped: boolean): string =>
  mapped
    ? `::ffff:${ipv4(block.first)}/${block.prefix + 96}`
    : `${ipv4(block.first)}/${block.prefix}`;

/** A random partition of the whole IPv4 space into CIDR blocks (never 0.0.0.0/0 itself). */
const partition = fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }).map((splits) => {
  const blocks: Block[] = [];
  let i = 0;
  const split = (block: Block): void => {
    const again = block.prefix === 0 || (block.prefix < 12 && splits[i++ % splits.length] === true);
    if (!again) return void blocks.push(block);
    const half = 2 ** (31 - block.prefix);
    split({ first: block.first, prefix: block.prefix + 1 });
    split({ first: block.first + half, prefix: block.prefix + 1 });
  };
  split({ first: 0, prefix: 0 });
  return blocks;
});

t.test('a generated covers-everything set is always the internet', async (_t) => {
  fc.assert(
    fc.property(
      partition,
      fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
      fc.nat(3),
      (blocks, flags, rulesWanted) => {
        const cidrs = blocks.map((block, index) =>
          cidrOf(block, flags[index % flags.length] === true),
        );
        if (
          !opensInternet(
            union(...cidrs.map((cidr) => ipBlockAddresses(cidr, []) ?? { ipv4: [], ipv6: [] })),
          )
        )
          return false;
        // Spread over one to four rules: the internet however it is split.
        const groups = Array.from({ length: rulesWanted + 1 }, (_, g) =>
          cidrs.filter((_, index) => index % (rulesWanted + 1) === g),
        ).filter((g) => g.length > 0);
        const egress = judge(
          egressPolicy(
            groups.map((group) => ({ to: group.map((cidr) => ({ ipBlock: { cidr } })) })),
          ),
        );
        const np004 = findingsOf(egress, 'NP004');
        // Every block is judged; those that open the internet, alone or together, say so.
        const allInternet =
          np004.length === cidrs.length &&
          np004.some((f) => / the internet/.test(f.message)) &&
          np004.every(
            (f) => / the internet/.test(f.message) || f.message.includes('not inside an approved'),
          );
        const ingress = judge(ingressPolicy(cidrs.map((cidr) => ({ ipBlock: { cidr } }))));
        return (
          allInternet &&
          findingsOf(egress, 'NP005').length === 0 &&
          findingsOf(ingress, 'NP012').length === 1 &&
          findingsOf(ingress, 'NP005').length === 0
        );
      },
    ),
  );
  // except carves a hole that another peer fills: still everything.
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 24 }), fc.nat(), (prefix, seed) => {
      const first = (seed % 2 ** prefix) * 2 ** (32 - prefix);
      const hole = cidrOf({ first, prefix }, false);
      const peers = [
        { ipBlock: { cidr: '0.0.0.0/1', except: first < 2 ** 31 ? [hole] : [] } },
        { ipBlock: { cidr: '128.0.0.0/1', except: first >= 2 ** 31 ? [hole] : [] } },
        { ipBlock: { cidr: hole } },
      ];
      return findingsOf(judge(ingressPolicy(peers)), 'NP012').length === 1;
    }),
  );
});

t.test(
  'one address set, two spellings (a block or its halves, IPv4 or IPv4-mapped): one verdict',
  async (_t) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.nat(),
        fc.boolean(),
        (prefix, seed, mapped) => {
          const first = (seed % 2 ** prefix) * 2 ** (32 - prefix);
          const half = 2 ** (31 - prefix);
          const whole = [{ ipBlock: { cidr: cidrOf({ first, prefix }, false) } }];
          const halves = [first, first + half].map((start) => ({
            ipBlock: { cidr: cidrOf({ first: start, prefix: prefix + 1 }, mapped) },
          }));
          return (
            verdict(judge(egressPolicy([{ to: whole }]))) ===
            verdict(judge(egressPolicy([{ to: halves }])))
          );
        },
      ),
    );
  },
);

/** Spellings of "every TCP port". */
const everyPort = fc.oneof(
  fc.constant('omit'),
  fc.constant([]),
  fc.constant([{ protocol: 'TCP' }]),
  fc.constant([{ protocol: 'TCP', port: null }]),
  fc.constant([{ protocol: 'TCP', port: 1, endPort: 65535 }]),
  fc.integer({ min: 1, max: 65534 }).map((cut) => [
    { protocol: 'TCP', port: cut + 1, endPort: 65535 },
    { protocol: 'TCP', port: 1, endPort: cut },
  ]),
);

t.test('every port, however spelled, is NP008 as no ports at all', async (t) => {
  const peer = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'web' } },
    podSelector: { matchLabels: { app: 'web' } },
  };
  const reference = verdict(judge(ingressPolicy([peer], [])));
  t.match(reference, /NP008:deny/);
  fc.assert(
    fc.property(everyPort, (ports) => verdict(judge(ingressPolicy([peer], ports))) === reference),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 65000 }),
      fc.integer({ min: 1, max: 20 }),
      (start, width) => {
        const range = [{ protocol: 'TCP', port: start, endPort: start + width }];
        const listed = Array.from({ length: width + 1 }, (_, i) => ({
          protocol: 'TCP',
          port: start + i,
        }));
        return (
          verdict(judge(ingressPolicy([peer], range))) ===
          verdict(judge(ingressPolicy([peer], listed)))
        );
      },
    ),
  );
});

t.test('a widened UPDATE never gets the pre-existing downgrade', async (t) => {
  const old = egressPolicy([{ to: [{ ipBlock: { cidr: '203.0.113.0/24' } }] }], {
    matchLabels: { app: 'crawler', tier: 'backend' },
  });
  const unchanged = findingsOf(judge(old, { operation: 'UPDATE', oldObject: old }), 'NP004')[0];
  t.same(
    [unchanged?.level, unchanged?.notes],
    ['warn', ['pre-existing: the object already had this before the update']],
    'the control: unchanged stays pre-existing',
  );
  const widening = fc.record({
    podSelector: fc.constantFrom(
      { matchLabels: { app: 'crawler', tier: 'backend' } },
      { matchLabels: { app: 'crawler' } },
      {},
      { matchExpressions: [{ key: 'app', operator: 'Exists' }] },
    ),
    ports: fc.constantFrom<unknown>(
      [{ protocol: 'TCP', port: 443 }],
      undefined,
      [
        { protocol: 'TCP', port: 443 },
        { protocol: 'TCP', port: 80 },
      ],
      [{ protocol: 'TCP', port: 1, endPort: 65535 }],
      [{ protocol: 'UDP', port: 443 }],
    ),
    cidr: fc.constantFrom('203.0.113.0/24', '203.0.0.0/16', '203.0.112.0/23', '0.0.0.0/0'),
  });
  fc.assert(
    fc.property(widening, ({ podSelector, ports, cidr }) => {
      const widened =
        podSelector !== undefined &&
        JSON.stringify(podSelector) !==
          JSON.stringify({ matchLabels: { app: 'crawler', tier: 'backend' } });
      const portsWider = JSON.stringify(ports) !== JSON.stringify([{ protocol: 'TCP', port: 443 }]);
      const cidrWider = cidr !== '203.0.113.0/24';
      if (!widened && !portsWider && !cidrWider) return true;
      const next = egressPolicy(
        [{ to: [{ ipBlock: { cidr } }], ...(ports === undefined ? {} : { ports }) }],
        podSelector,
      );
      if (ports === undefined)
        delete (next['spec'] as { egress: Record<string, unknown>[] }).egress[0]?.['ports'];
      const findings = findingsOf(judge(next, { operation: 'UPDATE', oldObject: old }), 'NP004');
      return (
        findings.length > 0 &&
        findings.every(
          (f) => f.level === 'deny' && !f.notes.some((note) => note.startsWith('pre-existing')),
        )
      );
    }),
  );
});
