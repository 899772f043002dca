// advise and reach on realistic Hubble captures (test/fixtures/reach/captures/): the envelope form
// with is_reply and reply (Cilium 1.16+), the flat form with only `reply` (older Hubble CLIs), and
// records with neither; the API server, other nodes, lost events; the issue "Observe you can act on".
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { parseAdviseOptions, readFlowFiles, runAdvise } from '../../src/cli/advise.ts';
import { parseReachOptions, runReach } from '../../src/cli/reach.ts';
import { loadPolicyFile } from '../../src/config/load.ts';
import { readManifests } from '../../src/manifests.ts';
import { advise as adviseFlows, type Advice } from '../../src/reach/advise.ts';
import { parseFlows } from '../../src/reach/flows.ts';
import { buildGraph } from '../../src/reach/world.ts';
import { runCli } from '../check/run-cli.ts';
import '../helpers/property.ts';
import { RULES_BY_ID } from '../../src/rules/registry.ts';

const DIR = 'test/fixtures/reach/captures';
const CLUSTER = `${DIR}/cluster.yaml`;
const NOW = new Date();

async function advise(flows: string[], extra: Record<string, unknown> = {}) {
  let out = '';
  const advice = await runAdvise(
    parseAdviseOptions({
      filename: [CLUSTER],
      flows,
      config: 'test/fixtures/policies/lab.yaml',
      exceptions: 'policies/exceptions.yaml',
      output: 'text',
      ...extra,
    }),
    { stdout: (text) => (out += text), stdin: () => '', now: NOW },
  );
  return { advice, out };
}

const named = (advice: Advice, name: string) =>
  advice.proposals.find((p) => (p['metadata'] as { name: string }).name === name);

t.test(
  '1. the API server and other nodes: cuts reported with the fix for Cilium, never a waiver',
  async (t) => {
    const { advice, out } = await advise([`${DIR}/cilium-envelope.json`]);
    const apiserver = advice.flows.find((f) => f.to === 'prod-hooks/policy-webhook');
    t.match(apiserver, {
      from: 'kube-apiserver (172.18.0.2)',
      port: 9443,
      entity: 'kube-apiserver',
      count: 2,
      today: { allowed: true },
      enforced: { allowed: false, ingress: { policies: ['netguard-default-deny'] } },
    });
    t.match(
      advice.flows.find((f) => f.to === 'prod-shop/api' && f.port === 9100),
      {
        from: 'remote-node (172.18.0.4)',
        entity: 'remote-node',
        enforced: { allowed: false },
      },
    );
    t.equal(
      advice.entityCuts.length,
      3,
      'webhook calls, the remote scrape, the api watching the API server',
    );
    for (const line of advice.entityCuts) {
      t.match(
        line,
        /Fix on Cilium \(this capture\): a CiliumNetworkPolicy with fromEntities\/toEntities \[(kube-apiserver|remote-node)\]/,
      );
      t.match(line, /A waiver opens no traffic\.$/);
      t.notMatch(line, /exception request/);
    }
    t.match(
      advice.entityCuts[0],
      /konnectivity-agent pods in kube-system .* control-plane node or ENI addresses/,
    );
    t.same(named(advice, 'policy-webhook-observed-entities')?.['spec'], {
      endpointSelector: { matchLabels: { app: 'policy-webhook', tier: 'backend' } },
      ingress: [
        {
          fromEntities: ['kube-apiserver'],
          toPorts: [{ ports: [{ port: '9443', protocol: 'TCP' }] }],
        },
      ],
    });
    t.same(named(advice, 'api-observed-entities')?.['spec'], {
      endpointSelector: { matchLabels: { app: 'api', tier: 'backend' } },
      ingress: [
        {
          fromEntities: ['remote-node'],
          toPorts: [{ ports: [{ port: '9100', protocol: 'TCP' }] }],
        },
      ],
      egress: [
        {
          toEntities: ['kube-apiserver'],
          toPorts: [{ ports: [{ port: '6443', protocol: 'TCP' }] }],
        },
      ],
    });
    t.equal(
      advice.capture.skipped[
        "source is the pod's own node (reserved:host; NetworkPolicy always admits it)"
      ],
      1,
      'the kubelet probe from the pod’s own node is exempt, not a cut',
    );
    t.match(out, /Cuts at the API server and nodes \(not fixed by a NetworkPolicy selector\):/);
  },
);

t.test('1. on Cilium an ipBlock does not select the API server: the cut stays', async (t) => {
  const { manifests } = readManifests([CLUSTER], () => '');
  const objects = manifests.map((m) => m.object);
  const byCidr = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'from-control-plane', namespace: 'prod-hooks' },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ ipBlock: { cidr: '172.18.0.0/16' } }], ports: [{ port: 9443 }] }],
    },
  };
  const policy = loadPolicyFile('test/fixtures/policies/lab.yaml', RULES_BY_ID);
  const graph = buildGraph(objects, { asEnforced: policy, extraPolicies: [byCidr] });
  const webhook = graph.workload('prod-hooks/policy-webhook');
  if (webhook === undefined) throw new Error('webhook');
  const address = { family: 'ipv4', prefix: 32, first: 0xac120002n, last: 0xac120002n } as const;
  t.equal(
    graph.decide(
      { kind: 'external', id: 'kube-apiserver', address, entity: 'kube-apiserver' },
      webhook,
      9443,
      'TCP',
    ).allowed,
    false,
    'the reserved entity is not matched by the ipBlock',
  );
  t.equal(
    graph.decide({ kind: 'external', id: '172.18.0.2', address }, webhook, 9443, 'TCP').allowed,
    true,
    'the same address as a plain address is',
  );
});

t.test(
  '2. direction: flags first, then is_reply/reply, then the reverse 5-tuple, else unknown',
  async (t) => {
    const legacy = readFlowFiles([`${DIR}/legacy-flat-reply.json`]);
    t.same(
      legacy.flows.map((f) => [f.port, f.protocol, f.count]),
      [[8443, 'TCP', 2]],
      'the SYN and the later ACK on the same tuple; no rule on 40001, 40002 or 43211',
    );
    t.same(legacy.skippedByReason, {
      'a reply': 3,
      'direction unknown (no SYN, no is_reply or reply, no earlier request on the reverse 5-tuple; proposes nothing)': 2,
    });
    const neither = readFlowFiles([`${DIR}/no-direction.json`]);
    t.same(
      neither.flows.map((f) => [f.port, f.count]),
      [[8443, 2]],
    );
    t.same(neither.skippedByReason, {
      'a reply': 1,
      'direction unknown (no SYN, no is_reply or reply, no earlier request on the reverse 5-tuple; proposes nothing)': 3,
    });
    for (const file of ['legacy-flat-reply.json', 'no-direction.json', 'cilium-envelope.json']) {
      const { advice } = await advise([`${DIR}/${file}`]);
      const text = JSON.stringify(advice.proposals);
      for (const ephemeral of ['40001', '40002', '40100', '43211', '47000', '52814'])
        t.notMatch(text, new RegExp(`\\b${ephemeral}\\b`), `${file}: no rule on port ${ephemeral}`);
      t.notOk(
        advice.flows.some((f) => f.port > 32767),
        `${file}: no flow on an ephemeral port`,
      );
    }
  },
);

t.test(
  '2. property: SYN alone is a request, SYN+ACK a reply, whatever is_reply and reply say',
  async (t) => {
    const record = (flags: Record<string, boolean>, extra: Record<string, unknown>) =>
      JSON.stringify({
        flow: {
          verdict: 'FORWARDED',
          IP: { source: '10.244.2.14', destination: '10.244.1.23' },
          l4: { TCP: { source_port: 40001, destination_port: 8443, flags } },
          source: { namespace: 'prod-shop', pod_name: 'web-7b9c6d5f4-q8w2e' },
          destination: { namespace: 'prod-shop', pod_name: 'api-6d5f7c8b9-k2x7q' },
          ...extra,
        },
      });
    const maybeBool = fc.option(fc.boolean(), { nil: undefined });
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), maybeBool, maybeBool, (syn, ack, isReply, reply) => {
        const extra = {
          ...(isReply === undefined ? {} : { is_reply: isReply }),
          ...(reply === undefined ? {} : { reply }),
        };
        const flags = { ...(syn ? { SYN: true } : {}), ...(ack ? { ACK: true } : {}) };
        const set = parseFlows('p.json', record(flags, extra));
        const request = syn
          ? !ack
          : isReply === false && reply !== true
            ? true
            : isReply !== true && reply !== true
              ? undefined
              : false;
        if (request === true) return set.flows.length === 1;
        if (request === false)
          return set.flows.length === 0 && set.skippedByReason['a reply'] === 1;
        return set.flows.length === 0 && set.skipped[0]?.includes('direction unknown') === true;
      }),
    );
    t.pass('every combination of flags, is_reply and reply read as the order says');
  },
);

t.test(
  '3. lost events and unavailable nodes: counted, and the capture is called incomplete',
  async (t) => {
    const { advice, out } = await advise([`${DIR}/cilium-envelope.json`]);
    t.match(advice.capture, { lostEvents: 37, complete: false });
    t.match(out, /^CAPTURE INCOMPLETE: flows are missing from it/);
    t.match(out, /Hubble lost 37 events \(lost_events records\)/);
    t.notMatch(out, /ICMP/);
    const relay = parseFlows(
      'relay.json',
      [
        '{"node_status":{"state_change":"NODE_CONNECTED","node_names":["kind-worker"]},"node_name":"relay"}',
        '{"node_status":{"state_change":"NODE_UNAVAILABLE","node_names":["kind-worker3"],"message":"connection refused"},"node_name":"relay"}',
        '{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":5,"cpu":{"value":2}}}',
      ].join('\n'),
    );
    t.same(relay.unavailableNodes, ['kind-worker3 (NODE_UNAVAILABLE)']);
    t.equal(relay.lostEvents, 5, 'a number works as well as the protojson string');
    t.equal(relay.problems, 0, 'control records are not input errors');
  },
);

t.test(
  '4. proposals: stable labels or a refusal; denied ones printed with the rules and the approval',
  async (t) => {
    const { advice, out } = await advise([`${DIR}/cilium-envelope.json`]);
    for (const p of advice.proposals.filter((p) => p['kind'] === 'NetworkPolicy')) {
      const spec = p['spec'] as { podSelector: { matchLabels: Record<string, string> } };
      t.ok(Object.keys(spec.podSelector.matchLabels).length > 0, 'never podSelector: {}');
    }
    t.notOk(named(advice, 'cleanup-observed'), 'no policy for a workload without stable labels');
    t.match(
      advice.refused.join('\n'),
      /prod-shop\/cleanup: no policy proposed: prod-shop\/cleanup has none of the stable labels app, app\.kubernetes\.io\/name, tier/,
    );
    t.match(
      advice.refused.join('\n'),
      /prod-shop\/cleanup → prod-shop\/api TCP\/8443 \(ingress of prod-shop\/api\)/,
    );
    const web = named(advice, 'web-observed');
    t.match(
      web,
      { spec: { policyTypes: ['Egress'] } },
      'no observed ingress: Ingress left to the baseline',
    );
    t.notOk((web?.['spec'] as Record<string, unknown>)['ingress'], 'no ingress: [] on anything');
    t.match(JSON.stringify(web), /"cidr":"8\.8\.8\.8\/32"/, '::ffff:8.8.8.8 is the IPv4 8.8.8.8');
    const check = advice.checks[advice.proposals.indexOf(web ?? {})];
    t.match(check, {
      proposal: 'prod-shop/web-observed',
      environment: 'production',
      allowed: false,
      findings: [{ rule: 'NP004', level: 'deny', path: 'spec.egress[1].to[0].ipBlock.cidr' }],
      approvals: [
        'add 8.8.8.8/32 to spec.networkPolicies.approvedEgressCIDRs (a reviewed change to the GuardrailPolicy)',
      ],
    });
    t.match(
      out,
      /---\n# netguard check would DENY this as written \(environment production, mode enforce\):\n# {3}NP004 \(deny\) at spec\.egress\[1\]\.to\[0\]\.ipBlock\.cidr: .*\n# {3}needs: add 8\.8\.8\.8\/32 .*\napiVersion: networking\.k8s\.io\/v1\nkind: NetworkPolicy\nmetadata:\n {2}name: web-observed/,
    );
    t.match(
      out,
      /Proposals netguard would deny as written .*:\n(?: .*\n)*? {2}prod-shop\/web-observed: NP004\n/,
    );
    const yaml = await advise([`${DIR}/cilium-envelope.json`], { output: 'yaml' });
    t.same(
      parseAllDocuments(yaml.out).map((d) => d.toJS()),
      advice.proposals,
      'the comments leave the YAML stream intact',
    );
  },
);

t.test('4. a rule other than NP004 gets the exception request command', async (t) => {
  const csv = `${DIR}/../shop/flows.csv`;
  const { advice } = await advise([csv], { filename: [CLUSTER, `${DIR}/../shop/cluster.yaml`] });
  t.ok(
    advice.checks.every((c) => c.allowed),
    'the shop proposals pass in production',
  );
  const file = join(mkdtempSync(join(tmpdir(), 'netguard-captures-')), 'service-ip.csv');
  writeFileSync(file, 'prod-shop,web,,10.96.0.10,443,TCP\n');
  const svc = await advise([file]);
  const check = svc.advice.checks.find((c) => c.proposal === 'prod-shop/web-observed');
  t.match(
    check?.findings.map((f) => f.rule),
    ['NP004', 'NP005'],
  );
  t.match(
    check?.approvals.join('\n'),
    /netguard exception request -n prod-shop --rule NP005 --target networkpolicy\/web-observed/,
  );
});

t.test(
  '5. reach: pod IPs are pods, hostNetwork, squatted baselines, a pod reaching itself',
  async (t) => {
    const ask = async (flags: Record<string, unknown>, files = [CLUSTER]) => {
      let out = '';
      await runReach(
        parseReachOptions({
          filename: files,
          protocol: 'TCP',
          asEnforced: true,
          output: 'json',
          config: 'test/fixtures/policies/lab.yaml',
          ...flags,
        }),
        { stdout: (text) => (out += text), stdin: () => '' },
      );
      return JSON.parse(out);
    };
    t.same(
      await ask({ from: 'prod-shop/debug', to: '10.244.1.23', port: '8443' }),
      {
        allowed: false,
        egress: { allowed: false, policies: ['netguard-allow-dns', 'netguard-default-deny'] },
        ingress: { allowed: false, policies: ['netguard-default-deny'] },
      },
      "api's pod IP is api, isolated as enforced (was: an outside address no ingress policy governs)",
    );
    t.same(
      (await ask({ from: '10.244.2.14', to: 'prod-shop/api', port: '8443', asEnforced: false }))
        .allowed,
      true,
    );
    t.same(await ask({ from: '203.0.113.9', to: 'prod-shop/node-agent', port: '9101' }), {
      allowed: false,
      egress: { allowed: true, policies: [] },
      ingress: { allowed: false, policies: ['netguard-default-deny'] },
      hostNetwork: {
        workloads: ['prod-shop/node-agent'],
        answer: 'undefined by Kubernetes',
        ifApplied: false,
        ifNotApplied: true,
      },
    });
    t.same(
      await ask({ from: '203.0.113.9', to: 'prod-shop/node-agent', port: '9101' }, [
        CLUSTER,
        `${DIR}/cilium.yaml`,
      ]),
      {
        allowed: true,
        egress: { allowed: true, policies: [] },
        ingress: { allowed: true, policies: [] },
        hostNetwork: {
          workloads: ['prod-shop/node-agent'],
          answer: 'not governed by NetworkPolicy on this CNI',
          cni: 'Cilium',
          ifNotApplied: true,
        },
      },
    );
    const squatted = [CLUSTER, `${DIR}/squatted-dns.yaml`];
    t.same(
      (
        await ask(
          { from: 'prod-shop/web', to: 'prod-shop/api', port: '8443', asEnforced: false },
          squatted,
        )
      ).allowed,
      true,
      'today the squatter opens egress',
    );
    t.same(
      (await ask({ from: 'prod-shop/web', to: 'prod-shop/api', port: '8443' }, squatted)).egress,
      { allowed: false, policies: ['netguard-allow-dns', 'netguard-default-deny'] },
      'as enforced the controller takes the name back',
    );
    t.equal(
      (await ask({ from: 'prod-shop/debug', to: 'prod-shop/debug', port: '8000' })).allowed,
      true,
      'a bare pod reaches itself',
    );
    t.equal(
      (await ask({ from: '10.244.1.23', to: '10.244.1.23', port: '8443' })).allowed,
      true,
      'one pod IP reaches itself',
    );
    t.equal(
      (await ask({ from: 'prod-shop/api', to: 'prod-shop/api', port: '8443' })).allowed,
      false,
      'a Deployment to itself asks about its other replicas',
    );
    let text = '';
    await runReach(
      parseReachOptions({
        filename: [CLUSTER],
        from: 'prod-shop/debug',
        to: 'prod-shop/debug',
        port: '8000',
        protocol: 'TCP',
        asEnforced: true,
        output: 'text',
        config: 'test/fixtures/policies/lab.yaml',
      }),
      { stdout: (out) => (text += out), stdin: () => '' },
    );
    t.equal(
      text,
      'prod-shop/debug → prod-shop/debug TCP/8000: allowed\n' +
        '  egress: allowed, a pod reaching itself (Kubernetes: a pod cannot block access to itself)\n' +
        '  ingress: allowed, a pod reaching itself (Kubernetes: a pod cannot block access to itself)\n',
    );
  },
);

t.test(
  '5. a flow file whose records are all rightly skipped: exit 0 and a report; garbage: exit 2',
  async (t) => {
    const run = runCli(['advise', '-f', CLUSTER, '--flows', `${DIR}/all-skipped.json`]);
    t.equal(run.code, 0, run.stderr);
    t.match(run.stdout, /^CAPTURE INCOMPLETE/);
    t.match(run.stdout, /0 distinct observed flows; 0 allowed by today's NetworkPolicies\./);
    t.match(run.stdout, /note: skipped 1 record: a reply\n/);
    t.match(run.stdout, /note: skipped 1 record: source is the pod's own node/);
    const dir = mkdtempSync(join(tmpdir(), 'netguard-captures-'));
    writeFileSync(join(dir, 'junk.json'), '{"flow": 1}\n{not json\n');
    const junk = runCli(['advise', '-f', CLUSTER, '--flows', join(dir, 'junk.json')]);
    t.equal(junk.code, 2);
    t.match(junk.stderr, /--flows: no flows found \(.*junk\.json:1: not a Hubble flow/);
  },
);

t.test(
  '6. every proposed rule shows its flows and sources; widening is said out loud',
  async (t) => {
    const { advice, out } = await advise([`${DIR}/cilium-envelope.json`]);
    t.same(
      advice.backing.find(
        (b) => b.policy === 'prod-shop/api-observed' && b.direction === 'ingress',
      ),
      {
        policy: 'prod-shop/api-observed',
        direction: 'ingress',
        peer: 'prod-shop/web',
        ports: 'TCP/8443',
        flows: 1,
        observed: ['prod-shop/web'],
        opens: undefined,
      },
    );
    t.match(
      advice.backing.find((b) => b.policy === 'prod-hooks/policy-webhook-observed-entities'),
      {
        peer: 'entity kube-apiserver',
        flows: 2,
        observed: ['kube-apiserver (172.18.0.2)'],
        opens: /admits every API server address/,
      },
    );
    t.match(
      out,
      / {2}prod-shop\/api-observed ingress from prod-shop\/web on TCP\/8443: 1 flow \(from prod-shop\/web\)\n/,
    );
    const shop = await advise([`${DIR}/../shop/hubble-flows.json`], {
      filename: [`${DIR}/../shop/cluster.yaml`],
    });
    const internet = shop.advice.backing.find(
      (b) =>
        b.policy === 'prod-ingress/ingress-nginx-controller-observed' && b.direction === 'ingress',
    );
    t.match(internet, {
      peer: '0.0.0.0/0 except 10.244.0.0/16, 10.96.0.0/12',
      observed: ['198.51.100.23', '203.0.113.50', '203.0.113.77'],
      opens:
        /^opens the internet \(0\.0\.0\.0\/0 except .*\) to prod-ingress\/ingress-nginx-controller, a tier=frontend workload/,
    });
    t.match(shop.out, /OPENS MORE THAN OBSERVED: opens the internet/);
  },
);

t.test(
  '4. property: selectors only ever use stable labels; every flow is proposed or refused with a reason',
  async (t) => {
    const policy = loadPolicyFile('test/fixtures/policies/lab.yaml', RULES_BY_ID);
    const STABLE = new Set(['app', 'app.kubernetes.io/name', 'tier']);
    const labelSet = fc.record(
      {
        app: fc.constantFrom('a', 'b'),
        'app.kubernetes.io/name': fc.constantFrom('x', 'y'),
        tier: fc.constantFrom('frontend', 'backend'),
        'pod-template-hash': fc.constantFrom('6d5f7c8b9', '7b9c6d5f4'),
        role: fc.constantFrom('cleanup', 'batch'),
      },
      { requiredKeys: [] },
    );
    const deployment = (name: string, labels: Record<string, string>) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'prod-shop' },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 8080 }] }] },
        },
      },
    });
    fc.assert(
      fc.property(
        fc.array(labelSet, { minLength: 2, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(3), fc.nat(3)), { minLength: 1, maxLength: 6 }),
        (labels, pairs) => {
          const names = labels.map((_, i) => `w${i}`);
          const objects = [
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod-shop' } },
            ...labels.map((l, i) => deployment(names[i] ?? '', l)),
          ];
          const csv = pairs
            .map(([a, b]) => [names[a % names.length], names[b % names.length]])
            .filter(([a, b]) => a !== b)
            .map(([a, b]) => `prod-shop,${a},prod-shop,${b},8080,TCP`)
            .join('\n');
          if (csv === '') return true;
          const graphs = {
            today: buildGraph(objects),
            enforced: buildGraph(objects, { asEnforced: policy }),
          };
          const advice = adviseFlows(
            parseFlows('p.csv', csv),
            graphs.today,
            graphs.enforced,
            policy,
          );
          for (const p of advice.proposals) {
            const keys = Object.keys(
              (p['spec'] as { podSelector: { matchLabels: Record<string, string> } }).podSelector
                .matchLabels,
            );
            if (keys.length === 0 || keys.some((k) => !STABLE.has(k))) return false;
          }
          for (const flow of advice.flows) {
            const [to, from] = [flow.to, flow.from];
            const admitted = advice.backing.some(
              (b) =>
                b.policy === `${to}-observed` &&
                b.direction === 'ingress' &&
                b.observed.includes(from),
            );
            const refused = advice.refused.some(
              (r) => r.includes(`${from} → ${to}`) || r.startsWith(`${to}: no policy`),
            );
            if (!admitted && !refused) return false;
          }
          return true;
        },
      ),
    );
    t.pass('100 random label sets and flow sets');
  },
);
