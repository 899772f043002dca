import { RULES_BY_ID } from '../../src/rules/registry.ts';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { adviseOnObjects, readFlowFiles } from '../../src/cli/advise.ts';
import { judgeManifests } from '../../src/cli/check.ts';
import { loadPolicyFile } from '../../src/config/load.ts';
import { LAB_POLICY } from '../helpers/context.ts';
import { loadWorld } from '../../src/world.ts';
import { lineOnly } from '../../src/source-position.ts';
import { readManifests, type Manifest } from '../../src/manifests.ts';
import { parseCidr } from '../../src/cidr.ts';
import type { Endpoint } from '../../src/reach/model.ts';
import { parseFlows } from '../../src/reach/flows.ts';
import { buildGraph } from '../../src/reach/world.ts';
import { runCli } from '../check/run-cli.ts';

const SHOP = 'test/fixtures/reach/shop';
const policy = loadPolicyFile(LAB_POLICY, RULES_BY_ID);
const { manifests } = readManifests([`${SHOP}/cluster.yaml`], () => '');
const objects = manifests.map((m) => m.object);
const expected = parseAllDocuments(readFileSync(`${SHOP}/expected-proposals.yaml`, 'utf8')).map(
  (doc) => doc.toJS() as Record<string, unknown>,
);
const hubble = adviseOnObjects(objects, readFlowFiles([`${SHOP}/hubble-flows.json`]), policy);
const csv = adviseOnObjects(objects, readFlowFiles([`${SHOP}/flows.csv`]), policy);

t.test('the recorded flows: all allowed today, 8 of 13 cut by the enforce baseline', async (t) => {
  t.equal(hubble.flows.length, 13, 'replies dropped, pods of one workload merged');
  t.equal(hubble.allowedToday, 13);
  t.equal(hubble.cutByEnforce, 8);
  t.same(hubble.notes, ['skipped 7 records: a reply']);
  t.same(hubble.namespaces, [
    { namespace: 'prod-ingress', observed: 5, cut: 4 },
    { namespace: 'prod-payments', observed: 4, cut: 3 },
    { namespace: 'prod-shop', observed: 6, cut: 3 },
  ]);
  const dns = hubble.flows.filter((f) => f.to === 'kube-system/coredns');
  t.equal(dns.length, 5, 'DNS flows');
  t.ok(
    dns.every(
      (f) => f.enforced.allowed && f.enforced.egress.policies.includes('netguard-allow-dns'),
    ),
    'the baseline keeps DNS',
  );
  const external = hubble.flows.find((f) => f.to === '160.79.104.10');
  t.same(external?.enforced, {
    allowed: false,
    egress: { allowed: false, policies: ['netguard-allow-dns', 'netguard-default-deny'] },
    ingress: { allowed: true, policies: [] },
  });
  t.equal(
    hubble.flows.find((f) => f.from === 'prod-shop/frontend' && f.to === 'prod-shop/api')?.count,
    3,
    'three records, two pods, one flow',
  );
});

t.test('Hubble JSON and CSV of the same traffic propose the same reviewed policies', async (t) => {
  t.same(hubble.proposals, expected);
  t.same(csv.proposals, expected);
  t.equal(csv.flows.length, 12, 'the CSV lists one internet client fewer');
});

t.test('netguard check admits the proposals in production, without a finding', async (t) => {
  const proposals: Manifest[] = hubble.proposals.map((object, index) => ({
    file: 'proposed.yaml',
    document: index + 1,
    item: undefined,
    object,
    source: lineOnly(1),
  }));
  const world = loadWorld({
    config: LAB_POLICY,
    exceptions: 'policies/exceptions.yaml',
  });
  const results = judgeManifests([...manifests, ...proposals], {
    world,
    environment: undefined,
    namespace: 'default',
    now: new Date('2026-11-25T12:00:00Z'),
  });
  const judged = results.filter((r) => r.manifest.file === 'proposed.yaml');
  t.equal(judged.length, 5);
  for (const result of judged) {
    t.equal(
      result.decision.allowed,
      true,
      `${result.decision.namespace}/${result.decision.name} admitted`,
    );
    t.equal(result.decision.environment, 'production');
    t.equal(result.decision.mode, 'enforce');
    t.same(result.decision.findings, [], 'no finding, not even a warning');
  }
});

t.test('reach confirms the proposals allow exactly the observed flows plus DNS', async (t) => {
  const graph = buildGraph(objects, { asEnforced: policy, extraPolicies: hubble.proposals });
  const observed = new Set(hubble.flows.map((f) => `${f.from} ${f.to} ${f.protocol}/${f.port}`));
  const excluded = (id: string): boolean => policy.excludedNamespaces.has(id.split('/')[0] ?? '');
  let pairs = 0;
  for (const src of graph.workloads) {
    for (const dst of graph.workloads) {
      for (const port of dst.ports) {
        const key = `${src.id} ${dst.id} ${port.protocol}/${port.port}`;
        const dns = dst.id === 'kube-system/coredns' && port.port === 53;
        const unjudged = excluded(src.id) && excluded(dst.id);
        t.equal(
          graph.decide(src, dst, port.port, port.protocol).allowed,
          observed.has(key) || dns || unjudged,
          key,
        );
        pairs++;
      }
    }
  }
  t.equal(pairs, 6 * 10, 'every workload to every declared port');
  const at = (text: string): Endpoint => {
    const address = parseCidr(`${text}/32`);
    if (address === undefined) throw new Error(text);
    return { kind: 'external', id: text, address };
  };
  const w = (id: string): Endpoint => {
    const found = graph.workload(id);
    if (found === undefined) throw new Error(id);
    return found;
  };
  t.equal(
    graph.decide(w('prod-payments/payments'), at('160.79.104.10'), 443, 'TCP').allowed,
    true,
    'the payment API as observed',
  );
  t.equal(
    graph.decide(w('prod-payments/payments'), at('160.79.104.11'), 443, 'TCP').allowed,
    false,
    'not its neighbour',
  );
  t.equal(
    graph.decide(w('prod-payments/payments'), at('160.79.104.10'), 80, 'TCP').allowed,
    false,
    'not another port',
  );
  t.equal(
    graph.decide(w('prod-shop/api'), at('160.79.104.10'), 443, 'TCP').allowed,
    false,
    'not from another workload',
  );
  t.equal(
    graph.decide(at('192.0.2.44'), w('prod-ingress/ingress-nginx-controller'), 443, 'TCP').allowed,
    true,
    'any internet client to the ingress controller',
  );
  t.equal(
    graph.decide(at('10.244.9.9'), w('prod-ingress/ingress-nginx-controller'), 443, 'TCP').allowed,
    false,
    'not a cluster address',
  );
  t.equal(
    graph.decide(at('192.0.2.44'), w('prod-shop/frontend'), 8080, 'TCP').allowed,
    false,
    'the internet does not skip the ingress controller',
  );
});

t.test(
  'advise --output yaml prints only the proposed policies as a multi-document stream',
  async (t) => {
    const run = runCli([
      'advise',
      '-f',
      `${SHOP}/cluster.yaml`,
      '--flows',
      `${SHOP}/hubble-flows.json`,
      '--config',
      LAB_POLICY,
      '--output',
      'yaml',
    ]);
    t.equal(run.code, 0, run.stderr);
    const docs = parseAllDocuments(run.stdout).map((doc) => doc.toJS() as Record<string, unknown>);
    t.same(docs, expected);
    t.match(run.stdout, /^---\napiVersion: networking\.k8s\.io\/v1\nkind: NetworkPolicy\n/);
  },
);

t.test('advise text: today, the cut, per namespace, the proposals', async (t) => {
  const run = runCli(['advise', '-f', `${SHOP}/cluster.yaml`, '--flows', `${SHOP}/flows.csv`]);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, /^12 distinct observed flows; 12 allowed by today's NetworkPolicies\.\n/);
  t.match(run.stdout, /Enforce would cut 7 of them \(the outage you avoid\):\n/);
  t.match(
    run.stdout,
    / {2}prod-payments\/payments → 160\.79\.104\.10 TCP\/443: cut at egress \(netguard-allow-dns, netguard-default-deny\)\n/,
  );
  t.match(run.stdout, / {2}prod-shop: 6 observed, 3 would be cut\n/);
  t.match(run.stdout, /5 proposed policies/);
});

t.test('bad flow input is a usage error naming the file or field (exit 2)', async (t) => {
  const missing = runCli(['advise', '-f', `${SHOP}/cluster.yaml`, '--flows', `${SHOP}/nope.json`]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /--flows: cannot read test\/fixtures\/reach\/shop\/nope\.json: ENOENT/);
  const none = runCli(['advise', '-f', `${SHOP}/cluster.yaml`]);
  t.equal(none.code, 2);
  t.match(none.stderr, /--flows: name at least one flow file/);
});

t.test('a flow that was only ever dropped is reported, never proposed', async (t) => {
  const attempt = JSON.stringify({
    flow: {
      verdict: 'DROPPED',
      IP: { source: '10.244.1.21', destination: '10.244.3.51' },
      l4: { TCP: { source_port: 41000, destination_port: 5432, flags: { SYN: true } } },
      source: {
        namespace: 'prod-shop',
        pod_name: 'frontend-7d9f8b6c5b-4kq2m',
        workloads: [{ name: 'frontend', kind: 'Deployment' }],
      },
      destination: { namespace: 'prod-payments', pod_name: 'postgres-0' },
    },
  });
  const flows = readFlowFiles([`${SHOP}/hubble-flows.json`]);
  const withAttempt = parseFlows('attempt.json', attempt, flows);
  const advice = adviseOnObjects(objects, withAttempt, policy);
  t.equal(advice.flows.length, 14);
  t.equal(
    advice.flows.find((f) => f.to === 'prod-payments/postgres' && f.from === 'prod-shop/frontend')
      ?.dropped,
    true,
  );
  t.same(advice.proposals, expected, 'the same proposals as without the attempt');
  t.match(
    advice.notes.join('\n'),
    /1 flow was only ever dropped: listed, not proposed .*: prod-shop\/frontend → prod-payments\/postgres TCP\/5432/,
  );
});

t.test(
  'a workload without labels of its own is named with a warning, never silently widened',
  async (t) => {
    const twin = structuredClone(
      objects.find((o) => (o['metadata'] as { name: string }).name === 'api'),
    );
    if (twin === undefined) throw new Error('api');
    (twin['metadata'] as { name: string }).name = 'api-canary';
    const flows = parseFlows('f.csv', 'prod-shop,frontend,prod-shop,api,8443,TCP\n');
    const advice = adviseOnObjects([...objects, twin], flows, policy);
    t.same(advice.notes, [
      'prod-shop/api has no labels of its own: rules naming it also name prod-shop/api-canary; give it a distinct app label',
    ]);
    const api = advice.proposals.find(
      (p) => (p['metadata'] as { name: string }).name === 'api-observed',
    );
    t.match(api, { spec: { podSelector: { matchLabels: { app: 'api', tier: 'backend' } } } });
  },
);
