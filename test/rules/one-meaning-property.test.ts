import fc from 'fast-check';
import t from 'tap';
import type { Decision } from '../../src/engine/types.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { findingsOf, judge, rulesOf, type JudgeOptions } from './judge.ts';
import '../helpers/property.ts';

/** What a reviewer sees: allowed or not, and each rule's levels. Paths differ between spellings. */
const verdict = (decision: Decision): string =>
  `${decision.allowed} ${rulesOf(decision)
    .map(
      (rule) =>
        `${rule}:${[...new Set(findingsOf(decision, rule).map((f) => f.level))].sort().join('/')}`,
    )
    .join(' ')}`;

const BACKEND = { matchLabels: { app: 'api', tier: 'backend' } };
const WEB_PEER = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'web' } },
  podSelector: { matchLabels: { app: 'web' } },
};

function policy(
  name: string,
  podSelector: unknown,
  ingress: { from?: unknown[]; ports?: unknown[] }[],
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name },
    spec: { podSelector, policyTypes: ['Ingress'], ingress },
  };
}

const ipv4 = (n: number): string => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');

/** A random IPv4 block of prefix 4-24 (the hole an except carves). */
const hole = fc
  .record({ prefix: fc.integer({ min: 4, max: 24 }), seed: fc.nat() })
  .map(({ prefix, seed }) => ({ first: (seed % 2 ** prefix) * 2 ** (32 - prefix), prefix }));

/** 0.0.0.0/0 minus one block, as the blocks that make it up: the siblings along the path to it. */
function complement(block: { first: number; prefix: number }): string[] {
  const out: string[] = [];
  for (let prefix = 1; prefix <= block.prefix; prefix += 1) {
    const size = 2 ** (32 - prefix);
    const onPath = Math.floor(block.first / size) * size;
    const sibling = onPath ^ size;
    out.push(`${ipv4(sibling >>> 0)}/${prefix}`);
  }
  return out;
}

const cidr = (block: { first: number; prefix: number }, mapped: boolean): string =>
  mapped
    ? `::ffff:${ipv4(block.first)}/${block.prefix + 96}`
    : `${ipv4(block.first)}/${block.prefix}`;

t.test(
  'the internet minus a hole: except list, split blocks or mapped IPv6, one verdict',
  async (t) => {
    const reference = verdict(
      judge(
        policy('p', BACKEND, [
          {
            from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }],
            ports: [{ protocol: 'TCP', port: 8080 }],
          },
        ]),
      ),
    );
    t.match(reference, /NP012:deny/, 'the reference is NP012');
    fc.assert(
      fc.property(hole, fc.boolean(), fc.boolean(), (block, mapped, split) => {
        const peers = split
          ? complement(block).map((text) => ({ ipBlock: { cidr: text } }))
          : [
              {
                ipBlock: {
                  cidr: mapped ? '::ffff:0.0.0.0/96' : '0.0.0.0/0',
                  except: [cidr(block, mapped)],
                },
              },
            ];
        const decision = judge(
          policy('p', BACKEND, [{ from: peers, ports: [{ protocol: 'TCP', port: 8080 }] }]),
        );
        return verdict(decision) === reference;
      }),
    );
  },
);

/** Spellings of one podSelector: app=api. */
const apiSelector = fc.constantFrom<unknown>(
  { matchLabels: { app: 'api' } },
  { matchExpressions: [{ key: 'app', operator: 'In', values: ['api'] }] },
  { matchLabels: { app: 'api' }, matchExpressions: [{ key: 'app', operator: 'Exists' }] },
  { matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'api'] }] },
);

t.test('one policy or two, selectors spelled any way: one NP012 verdict', async (t) => {
  const piece = (text: string) => ({
    from: [{ ipBlock: { cidr: text } }],
    ports: [{ protocol: 'TCP', port: 8080 }],
  });
  const reference = verdict(
    judge(
      policy('both', { matchLabels: { app: 'api' } }, [piece('1.0.0.0/9'), piece('1.128.0.0/9')]),
    ),
  );
  t.match(reference, /NP012:deny/);
  fc.assert(
    fc.property(apiSelector, apiSelector, fc.boolean(), (mine, theirs, together) => {
      const decision = together
        ? judge(policy('both', mine, [piece('1.0.0.0/9'), piece('1.128.0.0/9')]))
        : judge(policy('high', mine, [piece('1.128.0.0/9')]), {
            others: [policy('low', theirs, [piece('1.0.0.0/9')])],
          });
      return verdict(decision) === reference;
    }),
  );
});

t.test(
  'port ranges split within a rule, across rules or across policies: one NP008 verdict',
  async (t) => {
    t.match(
      verdict(
        judge(
          policy('p', BACKEND, [
            { from: [WEB_PEER], ports: [{ protocol: 'TCP', port: 1024, endPort: 65535 }] },
          ]),
        ),
      ),
      /NP008:deny/,
      '1,023 ports closed is every port',
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 65535 }),
        fc.constantFrom('one-rule', 'two-entries', 'two-rules', 'two-policies'),
        (first, cutSeed, spelling) => {
          const last = 65535;
          const cut = first + (cutSeed % (last - first + 1));
          const whole = [{ protocol: 'TCP', port: first, endPort: last }];
          const low = { protocol: 'TCP', port: first, endPort: Math.max(first, cut - 1) };
          const high = { protocol: 'TCP', port: cut, endPort: last };
          const reference = verdict(
            judge(policy('p', BACKEND, [{ from: [WEB_PEER], ports: whole }])),
          );
          const options: JudgeOptions = {};
          let object: KubeObject;
          if (spelling === 'one-rule')
            object = policy('p', BACKEND, [{ from: [WEB_PEER], ports: whole }]);
          else if (spelling === 'two-entries')
            object = policy('p', BACKEND, [{ from: [WEB_PEER], ports: [low, high] }]);
          else if (spelling === 'two-rules')
            object = policy('p', BACKEND, [
              { from: [WEB_PEER], ports: [low] },
              { from: [WEB_PEER], ports: [high] },
            ]);
          else {
            // Across policies the finding goes to the one that completes the union; when the other
            // policy alone already leaves fewer than 1,024 ports closed, the finding is its own.
            const other = policy('q', BACKEND, [{ from: [WEB_PEER], ports: [low] }]);
            object = policy('p', BACKEND, [{ from: [WEB_PEER], ports: [high] }]);
            const np008 = (text: string): boolean => text.includes('NP008:deny');
            const either =
              np008(verdict(judge(object, { others: [other] }))) || np008(verdict(judge(other)));
            return either === np008(reference);
          }
          return verdict(judge(object, options)) === reference;
        },
      ),
    );
  },
);

/** A legacy policy with NP004, NP008 and NP003 findings. */
function legacy(): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'legacy' },
    spec: {
      podSelector: BACKEND,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { app: 'web' } } }] },
        {
          from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'prometheus' } } }],
          ports: [{ protocol: 'TCP', port: 9090 }],
        },
      ],
      egress: [
        {
          to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12'] } }],
          ports: [{ protocol: 'TCP', port: 443 }],
        },
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    },
  };
}

type Spec = {
  podSelector: unknown;
  ingress: Record<string, unknown>[];
  egress: Record<string, unknown>[];
};
const specOf = (object: KubeObject): Spec => object['spec'] as Spec;

/** Changes that widen one finding's subject, and the rule whose finding they widen. */
const WIDENINGS: readonly [string, string, (spec: Spec) => void][] = [
  [
    'remove an except entry',
    'NP004',
    (s) =>
      void (s.egress[0] = {
        ...s.egress[0],
        to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }],
      }),
  ],
  ['open every egress port', 'NP004', (s) => void delete s.egress[0]?.['ports']],
  [
    'drop the NP003 peer podSelector',
    'NP003',
    (s) => void (s.ingress[1] = { ...s.ingress[1], from: [{ namespaceSelector: {} }] }),
  ],
  [
    'add a peer to the port-less rule',
    'NP008',
    (s) =>
      void (s.ingress[0] = {
        from: [
          { podSelector: { matchLabels: { app: 'web' } } },
          { podSelector: { matchLabels: { app: 'batch' } } },
        ],
      }),
  ],
  ['widen the podSelector', 'NP008', (s) => void (s.podSelector = { matchLabels: { app: 'api' } })],
];

/** Changes that narrow or keep every finding, including an unrelated, finding-free rule. */
const NARROWINGS: readonly [string, (spec: Spec, at: number) => void][] = [
  ['nothing', () => {}],
  [
    'add an except entry',
    (s) =>
      void (s.egress[0] = {
        ...s.egress[0],
        to: [
          {
            ipBlock: {
              cidr: '0.0.0.0/0',
              except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
            },
          },
        ],
      }),
  ],
  [
    'narrow the podSelector',
    (s) => void (s.podSelector = { matchLabels: { app: 'api', tier: 'backend', zone: 'a' } }),
  ],
  [
    'add an unrelated ingress rule',
    (s, at) =>
      void s.ingress.splice(at % (s.ingress.length + 1), 0, {
        from: [WEB_PEER],
        ports: [{ protocol: 'TCP', port: 8080 }],
      }),
  ],
  [
    'add an unrelated egress rule',
    (s, at) =>
      void s.egress.splice(at % (s.egress.length + 1), 0, {
        to: [{ ipBlock: { cidr: '160.79.104.0/24' } }],
        ports: [{ protocol: 'TCP', port: 443 }],
      }),
  ],
];

const preExisting = (decision: Decision, rule: string): boolean[] =>
  findingsOf(decision, rule).map((f) => f.notes.some((note) => note.startsWith('pre-existing')));

t.test(
  'a widened UPDATE is never pre-existing; an unchanged or narrowed one always is',
  async (t) => {
    const old = legacy();
    const before = judge(old);
    t.same(rulesOf(before), ['NP003', 'NP004', 'NP008'], 'the legacy policy has these findings');
    fc.assert(
      fc.property(fc.constantFrom(...WIDENINGS), ([, rule, change]) => {
        const next = structuredClone(old);
        change(specOf(next));
        const decision = judge(next, { operation: 'UPDATE', oldObject: old });
        const flags = preExisting(decision, rule);
        return decision.allowed === false && flags.length > 0 && flags.some((flag) => !flag);
      }),
    );
    fc.assert(
      fc.property(fc.subarray([...NARROWINGS], { minLength: 1 }), fc.nat(), (changes, at) => {
        const next = structuredClone(old);
        for (const [, change] of changes) change(specOf(next), at);
        const decision = judge(next, { operation: 'UPDATE', oldObject: old });
        return (
          decision.allowed &&
          decision.findings.every((f) => f.notes.some((note) => note.startsWith('pre-existing')))
        );
      }),
    );
  },
);
