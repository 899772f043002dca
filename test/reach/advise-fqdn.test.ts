import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { parseAdviseOptions, runAdvise } from '../../src/cli/advise.ts';
import type { Advice } from '../../src/reach/advise.ts';
import { emptyFlowSet, parseFlows } from '../../src/reach/flows.ts';
import '../helpers/property.ts';

// advise on a Cilium cluster whose capture carries DNS names (Hubble `destination_names`):
// destinations reached by name become toFQDNs (matchName per name) with the DNS rule Cilium needs,
// judged by netguard's rules against approvedEgressFQDNs; without Cilium, ipBlocks as before.
const SHOP = 'test/fixtures/reach/shop/cluster.yaml';
const CILIUM = 'test/fixtures/reach/captures/cilium.yaml';
const DIR = 'test/fixtures/reach/fqdn';
const FLOWS = `${DIR}/hubble-fqdn.json`;
const POLICY = `${DIR}/guardrails.yaml`;

async function advise(files: string[], config = POLICY, flows = [FLOWS]) {
  let out = '';
  const advice = await runAdvise(
    parseAdviseOptions({
      filename: files,
      flows,
      config,
      exceptions: 'policies/exceptions.yaml',
      output: 'text',
    }),
    { stdout: (text) => (out += text), stdin: () => '', now: new Date() },
  );
  return { advice, out };
}

const named = (advice: Advice, name: string) =>
  advice.proposals.find((p) => (p['metadata'] as { name: string }).name === name);
const checkOf = (advice: Advice, name: string) => advice.checks.find((c) => c.proposal === name);

t.test('Hubble destination_names are read as well-formed host names only', async (t) => {
  const set = parseFlows(FLOWS, readFileSync(FLOWS, 'utf8'), emptyFlowSet());
  const to = (address: string) =>
    set.flows.find((f) => f.to.kind === 'address' && f.to.address === address);
  t.same(to('160.79.104.10')?.names, ['api.anthropic.com'], 'lower case, no trailing dot, merged');
  t.equal(to('160.79.104.10')?.count, 2);
  t.same(to('104.18.10.20')?.names, ['api.stripe.com']);
  t.equal(to('93.184.215.14')?.names, undefined, 'no names captured');
  t.equal(
    to('151.101.1.1')?.names,
    undefined,
    '"*", a control character, an empty label: none kept',
  );
});

t.test(
  'with Cilium: toFQDNs and the DNS rule, instead of ipBlocks for named destinations',
  async (t) => {
    const { advice, out } = await advise([SHOP, CILIUM]);
    t.same(named(advice, 'payments-observed-fqdns'), {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: {
        name: 'payments-observed-fqdns',
        namespace: 'prod-payments',
        annotations: {
          'netguard.dev/advised':
            'from observed flows of Deployment payments to destinations reached by DNS name; review before applying',
        },
      },
      spec: {
        endpointSelector: { matchLabels: { app: 'payments', tier: 'backend' } },
        egress: [
          {
            toEndpoints: [
              {
                matchLabels: {
                  'k8s:io.kubernetes.pod.namespace': 'kube-system',
                  'k8s-app': 'kube-dns',
                },
              },
            ],
            toPorts: [
              {
                ports: [
                  { port: '53', protocol: 'UDP' },
                  { port: '53', protocol: 'TCP' },
                ],
                rules: { dns: [{ matchPattern: '*' }] },
              },
            ],
          },
          {
            toFQDNs: [{ matchName: 'api.anthropic.com' }, { matchName: 'api.stripe.com' }],
            toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }],
          },
        ],
      },
    });
    const np = JSON.stringify(named(advice, 'payments-observed'));
    t.notMatch(np, /160\.79\.104\.10|104\.18\./, 'no ipBlock for a destination reached by name');
    t.match(np, /93\.184\.215\.14\/32/, 'an address without a name keeps its ipBlock');
    t.match(
      JSON.stringify(named(advice, 'frontend-observed')),
      /151\.101\.1\.1\/32/,
      'hostile names are no names',
    );
    t.same(
      checkOf(advice, 'prod-payments/payments-observed-fqdns'),
      {
        proposal: 'prod-payments/payments-observed-fqdns',
        environment: 'production',
        mode: 'enforce',
        allowed: false,
        findings: [
          {
            rule: 'NP004',
            level: 'deny',
            path: 'spec.egress[1].toFQDNs[1]',
            message:
              '"api.stripe.com" is not an approved egress name, so these pods can reach hosts nobody reviewed.',
          },
        ],
        approvals: [
          'add api.stripe.com to spec.networkPolicies.approvedEgressFQDNs (a reviewed change to the GuardrailPolicy)',
        ],
      },
      'the approved name passes; the other needs approvedEgressFQDNs, and the DNS rule meets no rule',
    );
    t.match(
      out,
      /prod-payments\/payments-observed-fqdns egress to DNS names api\.anthropic\.com, api\.stripe\.com on TCP\/443: 4 flows/,
    );
    t.match(out, /OPENS MORE THAN OBSERVED: admits every address these names resolve to/);
    t.match(out, /# {3}needs: add api\.stripe\.com to spec\.networkPolicies\.approvedEgressFQDNs/);
    // docs/observe.md section 8 shows this run: its comment lines must be what advise prints.
    const doc = readFileSync('docs/observe.md', 'utf8');
    for (const line of out
      .split('\n')
      .filter((l) => l.startsWith('#   ') && /toFQDNs|approvedEgressFQDNs/.test(l)))
      t.ok(doc.includes(line), `docs/observe.md shows: ${line.slice(0, 60)}`);
  },
);

t.test('with every name approved, the toFQDNs proposal meets no rule at all', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'netguard-fqdn-'));
  const config = join(dir, 'guardrails.yaml');
  writeFileSync(
    config,
    readFileSync(POLICY, 'utf8').replace(
      'approvedEgressFQDNs: [api.anthropic.com]',
      'approvedEgressFQDNs: [api.anthropic.com, "*.stripe.com"]',
    ),
  );
  const { advice } = await advise([SHOP, CILIUM], config);
  const check = checkOf(advice, 'prod-payments/payments-observed-fqdns');
  t.equal(check?.allowed, true);
  t.same(check?.findings, [], 'no finding, not even NP001: the DNS rule is there');
  t.same(check?.approvals, []);
});

t.test('without Cilium the names cannot be used: ipBlocks, and a note saying why', async (t) => {
  const { advice } = await advise([SHOP]);
  t.equal(named(advice, 'payments-observed-fqdns'), undefined);
  const np = JSON.stringify(named(advice, 'payments-observed'));
  t.match(np, /160\.79\.104\.10\/32/);
  t.match(np, /104\.18\.10\.20\/32/);
  t.ok(
    advice.notes.some((n) =>
      /^3 flows carried DNS names, but Cilium was not found among the input's DaemonSets: toFQDNs needs Cilium/.test(
        n,
      ),
    ),
    advice.notes.join('\n'),
  );
});

t.test(
  'whatever names a capture holds, a proposal lists only host names by matchName',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'netguard-fqdn-prop-'));
    const base = JSON.parse(readFileSync(FLOWS, 'utf8').split('\n')[1] ?? '{}');
    const hostile = fc.oneof(
      fc.constantFrom('*', '**.', '*.example.com', 'a..b', '-x.example.com', 'x.example.com.', ''),
      fc.string({ maxLength: 40 }),
      fc.domain(),
    );
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { minLength: 1, maxLength: 6 }), async (names) => {
        const file = join(dir, `flows-${runs++}.json`);
        base.flow.destination_names = names;
        writeFileSync(file, `${JSON.stringify(base)}\n`);
        const { advice } = await advise([SHOP, CILIUM], POLICY, [file]);
        const fqdns = advice.proposals.flatMap((p) =>
          (
            (p['spec'] as { egress?: { toFQDNs?: Record<string, string>[] }[] }).egress ?? []
          ).flatMap((rule) => rule.toFQDNs ?? []),
        );
        return fqdns.every(
          (entry) =>
            Object.keys(entry).join() === 'matchName' &&
            /^[a-z0-9_]([-a-z0-9_]*[a-z0-9])?(\.[a-z0-9_]([-a-z0-9_]*[a-z0-9])?)+$/.test(
              entry['matchName'] ?? '',
            ),
        );
      }),
      { numRuns: 30 },
    );
    t.pass('no pattern, no wildcard, no stray character reached a proposal');
  },
);
