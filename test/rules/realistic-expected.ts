import type { Mode } from '../../src/vocabulary.ts';

export const REALISTIC_DIR = 'test/fixtures/network-policies/realistic';

/** What a user sees: admitted cleanly, admitted with `Warning:` lines, or denied. */
export type Outcome = 'allowed' | 'allowed + warnings' | 'denied';

export interface RealisticCase {
  readonly file: string;
  readonly pattern: string;
  readonly name: string;
  readonly outcomes: Readonly<Record<Mode, Outcome>>;
  readonly rules: readonly string[];
}

const clean = { observe: 'allowed', constrain: 'allowed', enforce: 'allowed' } as const;
const warnWarnDeny = {
  observe: 'allowed + warnings',
  constrain: 'allowed + warnings',
  enforce: 'denied',
} as const;
const warnDenyDeny = {
  observe: 'allowed + warnings',
  constrain: 'denied',
  enforce: 'denied',
} as const;
const alwaysWarn = {
  observe: 'allowed + warnings',
  constrain: 'allowed + warnings',
  enforce: 'allowed + warnings',
} as const;

/** The realistic set, judged with test/fixtures/policies/lab.yaml; docs/verdicts.md states the same. */
export const REALISTIC: readonly RealisticCase[] = [
  {
    file: '01-default-deny-ingress.yaml',
    pattern: 'default deny ingress',
    name: 'default-deny-ingress',
    outcomes: clean,
    rules: [],
  },
  {
    file: '02-default-deny-egress.yaml',
    pattern: 'default deny egress (no DNS allow in the namespace)',
    name: 'default-deny-egress',
    outcomes: warnWarnDeny,
    rules: ['NP001'],
  },
  {
    file: '03-default-deny-all.yaml',
    pattern: 'default deny all (no DNS allow in the namespace)',
    name: 'default-deny-all',
    outcomes: warnWarnDeny,
    rules: ['NP001'],
  },
  {
    file: '04-default-deny-egress-with-dns.yaml',
    pattern: 'DNS allow for the whole namespace, next to default deny egress',
    name: 'allow-dns',
    outcomes: clean,
    rules: [],
  },
  {
    file: '04-default-deny-egress-with-dns.yaml',
    pattern: 'default deny egress, next to a DNS allow for the whole namespace',
    name: 'default-deny-egress',
    outcomes: clean,
    rules: [],
  },
  {
    file: '05-allow-all-ingress.yaml',
    pattern: 'allow all ingress',
    name: 'allow-all-ingress',
    outcomes: warnDenyDeny,
    rules: ['NP002', 'NP008'],
  },
  {
    file: '06-allow-all-egress.yaml',
    pattern: 'allow all egress',
    name: 'allow-all-egress',
    outcomes: warnDenyDeny,
    rules: ['NP002'],
  },
  {
    file: '07-allow-one-app-one-port.yaml',
    pattern: 'allow from one app on one port',
    name: 'api-allow-web',
    outcomes: clean,
    rules: [],
  },
  {
    file: '08-allow-from-namespace.yaml',
    pattern: 'allow from a namespace by kubernetes.io/metadata.name',
    name: 'api-allow-monitoring',
    outcomes: clean,
    rules: [],
  },
  {
    file: '09-external-to-frontend.yaml',
    pattern: 'external traffic to a frontend on 80/443, from ipBlock 0.0.0.0/0',
    name: 'web-allow-external',
    outcomes: clean,
    rules: [],
  },
  {
    file: '10-external-to-frontend-without-from.yaml',
    pattern: 'external traffic to a frontend on 80/443, without from',
    name: 'web-allow-external',
    outcomes: warnDenyDeny,
    rules: ['NP002'],
  },
  {
    file: '11-dns-allow-with-to.yaml',
    pattern: 'DNS allow with to (kube-dns)',
    name: 'allow-dns',
    outcomes: clean,
    rules: [],
  },
  {
    file: '12-dns-allow-without-to.yaml',
    pattern: 'DNS allow without to',
    name: 'allow-dns',
    outcomes: clean,
    rules: [],
  },
  {
    file: '13-approved-egress-with-dns.yaml',
    pattern: 'egress to the approved 160.79.104.0/23 on 443, with DNS',
    name: 'sandbox-egress',
    outcomes: clean,
    rules: [],
  },
  {
    file: '14-egress-world-with-except.yaml',
    pattern: 'egress to 0.0.0.0/0 with except',
    name: 'crawler-egress',
    outcomes: warnWarnDeny,
    rules: ['NP004'],
  },
  {
    file: '15-ipblock-in-pod-cidr.yaml',
    pattern: 'ipBlock inside the pod CIDR',
    name: 'db-allow-batch',
    outcomes: warnWarnDeny,
    rules: ['NP005'],
  },
  {
    file: '16-pod-template-hash-selector.yaml',
    pattern: 'podSelector on pod-template-hash',
    name: 'web-canary',
    outcomes: warnWarnDeny,
    rules: ['NP006'],
  },
  {
    file: '17-separate-namespace-and-pod-peers.yaml',
    pattern: 'separate namespaceSelector and podSelector peers',
    name: 'api-allow-prometheus',
    outcomes: alwaysWarn,
    rules: ['NP007'],
  },
];

/** The markdown table docs/verdicts.md carries, rendered from REALISTIC. */
export function verdictTable(cases: readonly RealisticCase[] = REALISTIC): string {
  const rows = cases.map(
    (c) =>
      `| ${c.pattern} | \`${c.file}\` ${c.name} | ${c.outcomes.observe} | ${c.outcomes.constrain} | ${c.outcomes.enforce} | ${c.rules.length === 0 ? '—' : c.rules.join(', ')} |`,
  );
  return [
    '| pattern | fixture, object | observe (dev-\\*) | constrain (staging-\\*) | enforce (prod-\\*) | findings |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
