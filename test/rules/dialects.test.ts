import t from 'tap';
import { parsePolicy } from '../../src/config/load.ts';
import { validate } from '../../src/engine/evaluate.ts';
import type { AdmissionInput, Decision } from '../../src/engine/types.ts';
import type { KubeObject, Operation } from '../../src/vocabulary.ts';
import { contextFor } from '../helpers/context.ts';
import { loadFixture } from '../helpers/reviews.ts';
import { defaultLevelsPolicy } from './judge.ts';
import { RULES_BY_ID } from '../../src/rules/registry.ts';

const DIR = 'test/fixtures/dialects';

function gvk(object: KubeObject): { group: string; version: string } {
  const apiVersion = String(object['apiVersion']);
  const slash = apiVersion.lastIndexOf('/');
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

interface Options {
  readonly user?: { username: string; groups: string[] };
  readonly operation?: Operation;
  readonly policy?: ReturnType<typeof defaultLevelsPolicy>;
}

/** The fixture's last document as an AdmissionReview of it would arrive; earlier ones are the cluster. */
function review(file: string, options: Options = {}): Decision {
  const documents = loadFixture(`${DIR}/${file}`);
  const object = documents.at(-1) as KubeObject;
  const metadata = object['metadata'] as Record<string, string>;
  const operation = options.operation ?? 'CREATE';
  const input: AdmissionInput = {
    uid: 'u',
    kind: String(object['kind']),
    ...gvk(object),
    operation,
    namespace: metadata['namespace'] ?? '',
    name: metadata['name'] ?? '',
    object: operation === 'DELETE' ? undefined : object,
    oldObject: operation === 'CREATE' ? undefined : object,
    user: options.user ?? { username: 'alice@example.com', groups: ['system:authenticated'] },
    dryRun: false,
  };
  return validate(
    input,
    contextFor({
      policy: options.policy ?? defaultLevelsPolicy(),
      objects: documents.slice(0, -1),
    }),
  );
}

const found = (decision: Decision) =>
  decision.findings.map((finding) => `${finding.rule} ${finding.path}`).sort();

t.test('Cilium: the internet as entities, CIDR groups and FQDN patterns is NP004', async (t) => {
  const world = review('cilium-world-egress.yaml');
  t.equal(world.allowed, false);
  t.same(found(world), ['NP004 spec.egress[0].toEntities[0]']);
  t.match(
    world.findings[0]?.message,
    /entity world lets these pods reach any address on the internet/,
  );
  t.match(world.message, /^CiliumNetworkPolicy prod-x\/crawler-out violates 1 guardrail/);
  t.match(world.message, /--target ciliumnetworkpolicy\/crawler-out/);

  const group = review('cilium-cidr-group.yaml');
  t.same(found(group), ['NP004 spec.egress[0].toCIDRSet[0]']);
  t.match(group.findings[0]?.message, /CIDR group everything lets these pods reach/);

  const fqdn = review('cilium-fqdn.yaml');
  t.same(found(fqdn), ['NP004 spec.egress[0].toFQDNs[0]', 'NP004 spec.egress[1].toFQDNs[0]']);
  t.match(fqdn.findings[1]?.message, /"\*" matches every DNS name/);
  const approving = parsePolicy(
    `apiVersion: netguard.dev/v1alpha1
kind: GuardrailPolicy
spec:
  environments: [{name: production, mode: enforce, namespaces: ["prod-*"]}]
  networkPolicies: {approvedEgressFQDNs: ["*.stripe.com"]}
`,
    'fqdn',
    RULES_BY_ID,
  );
  t.same(
    found(review('cilium-fqdn.yaml', { policy: approving })),
    ['NP004 spec.egress[1].toFQDNs[0]'],
    'an approved wildcard covers api.stripe.com, never "*"',
  );
});

t.test(
  'Cilium: toFQDNs needs DNS visibility, here or in a policy over the same pods (NP001)',
  async (t) => {
    const approving = parsePolicy(
      `apiVersion: netguard.dev/v1alpha1
kind: GuardrailPolicy
spec:
  environments: [{name: production, mode: enforce, namespaces: ["prod-*"]}]
  networkPolicies: {approvedEgressFQDNs: ["api.stripe.com"]}
`,
      'fqdn',
      RULES_BY_ID,
    );
    const blind = review('cilium-fqdn-no-visibility.yaml', { policy: approving });
    t.equal(blind.allowed, false);
    t.same(found(blind), ['NP001 spec.egress[0].toFQDNs']);
    t.match(
      blind.findings[0]?.message,
      /only from lookups its DNS proxy sees.*toPorts\[\]\.rules\.dns/,
    );
    t.match(blind.findings[0]?.fix, /rules: \{dns: \[\{matchPattern: "\*"\}\]\}/);
    t.same(
      found(review('cilium-fqdn.yaml', { policy: approving })),
      ['NP004 spec.egress[1].toFQDNs[0]'],
      'its own DNS rule with rules.dns gives visibility',
    );
    t.same(
      found(review('cilium-fqdn-visibility-elsewhere.yaml', { policy: approving })),
      [],
      'a namespace-wide Cilium policy with rules.dns gives these pods visibility',
    );
    t.same(
      found(review('cilium-fqdn-visibility-removed.yaml', { policy: approving })),
      ['NP001 spec.egress[0].toFQDNs'],
      'the cached copy of the policy under review gives it no visibility',
    );
  },
);

t.test(
  "NP001: a namespace-wide Cilium policy's DNS rule counts for every policy there",
  async (t) => {
    const cilium = review('dns-from-cilium-neighbour.yaml');
    t.same(found(cilium), [], 'a CiliumNetworkPolicy relying on it');
    t.same(
      found(review('dns-from-cilium-neighbour-ports.yaml')),
      [],
      'the same DNS rule spelled as UDP 53 and TCP 53',
    );
    const udpOnly = review('dns-udp-only-from-cilium.yaml');
    t.same(
      found(udpOnly),
      ['NP001 spec.policyTypes'],
      'a NetworkPolicy relying on it, TCP missing',
    );
    t.match(
      udpOnly.findings[0]?.message,
      /DNS over UDP 53 but not TCP 53.*allowed only by CiliumNetworkPolicy allow-dns-udp/,
    );
    t.match(udpOnly.findings[0]?.fix, /DNS rule of CiliumNetworkPolicy allow-dns-udp/);
  },
);

t.test('Cilium: ports without a peer is every peer (NP002)', async (t) => {
  const decision = review('cilium-ports-without-peer.yaml');
  t.equal(decision.allowed, false);
  t.same(found(decision), ['NP002 spec.ingress[0].toPorts']);
  t.match(decision.findings[0]?.message, /allows every peer .* on 8080\/TCP/);
});

t.test('Cilium: cluster and a namespace Exists selector are every namespace (NP003)', async (t) => {
  const decision = review('cilium-cluster-entity.yaml');
  t.same(found(decision), [
    'NP003 spec.ingress[0].fromEntities[0]',
    'NP003 spec.ingress[1].fromEndpoints[0]',
  ]);
  t.equal(decision.allowed, false);
});

t.test('Cilium: port "0" with protocol ANY is every port (NP008)', async (t) => {
  const decision = review('cilium-every-port.yaml');
  t.same(found(decision), ['NP008 spec.ingress[0]']);
});

t.test(
  'controls that stay admitted: a Cilium {} rule, an empty endpoint selector, a Calico Deny',
  async (t) => {
    const empty = review('cilium-empty-rule.yaml');
    t.equal(empty.allowed, true);
    t.same(found(empty), []);
    const deny = review('calico-deny-world.yaml');
    t.equal(deny.allowed, true);
    t.same(found(deny), []);
  },
);

t.test(
  'Calico: no destination is any peer; NetworkSets count; all() is every namespace',
  async (t) => {
    const any = review('calico-allow-any.yaml');
    t.same(found(any), ['NP002 spec.egress[0].destination']);
    t.match(any.message, /^NetworkPolicy\.projectcalico\.org prod-x\/out-anywhere/);
    const set = review('calico-network-set.yaml');
    t.same(found(set), ['NP004 spec.egress[0].destination.selector']);
    t.match(
      set.findings[0]?.message,
      /NetworkSet anywhere \(0\.0\.0\.0\/0\) lets these pods reach/,
    );
    const all = review('calico-every-namespace.yaml');
    t.same(found(all), ['NP003 spec.ingress[0].source.namespaceSelector']);
  },
);

t.test("NP014: cluster-scoped kinds are the platform team's alone", async (t) => {
  for (const operation of ['CREATE', 'UPDATE', 'DELETE'] as const) {
    const tenant = review('clusterwide-world.yaml', { operation });
    t.equal(tenant.allowed, false, `a tenant may not ${operation}`);
    t.ok(tenant.findings.some((f) => f.rule === 'NP014' && f.level === 'deny'));
    t.match(tenant.message, /-n netguard-system --rule [A-Z0-9,]*NP014/);
  }
  const gc = review('clusterwide-world.yaml', {
    operation: 'DELETE',
    user: { username: 'system:serviceaccount:kube-system:generic-garbage-collector', groups: [] },
  });
  t.equal(gc.allowed, true, 'the garbage collector may delete');
  const platform = review('clusterwide-world.yaml', {
    user: { username: 'root', groups: ['system:masters'] },
  });
  t.same(found(platform), ['NP004 spec.egress[0].toEntities[0]']);
  t.equal(platform.mode, 'enforce', 'judged in the strictest environment its subject can select');
  t.equal(platform.allowed, false);
  const anp = review('admin-network-policy.yaml', {
    user: { username: 'root', groups: ['system:masters'] },
  });
  t.same(found(anp), ['NP003 spec.ingress[0].from[0]']);
  t.equal(anp.mode, 'enforce');
});

t.test('a CIDR group netguard cannot see counts as every address', async (t) => {
  const documents = loadFixture(`${DIR}/cilium-cidr-group.yaml`);
  const policy = documents.at(-1) as KubeObject;
  const input: AdmissionInput = {
    uid: 'u',
    kind: 'CiliumNetworkPolicy',
    group: 'cilium.io',
    version: 'v2',
    operation: 'CREATE',
    namespace: 'prod-x',
    name: 'via-group',
    object: policy,
    oldObject: undefined,
    user: { username: 'alice', groups: [] },
    dryRun: false,
  };
  const ctx = contextFor({ policy: defaultLevelsPolicy(), objects: [] });
  // A live cluster view without a CIDR group cache.
  const { dialectObjects: _unseen, ...live } = ctx.cluster;
  const decision = validate(input, { ...ctx, cluster: live });
  t.same(found(decision), ['NP004 spec.egress[0].toCIDRSet[0]']);
  t.match(
    decision.findings[0]?.message,
    /not in netguard's cache of CIDR groups, so counted as every address/,
  );
});

t.test('a Calico NetworkPolicy is no Kubernetes neighbour (NP001 does not count it)', async (t) => {
  const calicoDns = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name: 'dns', namespace: 'prod-x' },
    // Spelled as a Kubernetes policy that would allow DNS to the whole namespace.
    spec: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    },
  };
  const restricted = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'api-out', namespace: 'prod-x' },
    spec: {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ podSelector: { matchLabels: { app: 'db' } } }],
          ports: [{ protocol: 'TCP', port: 5432 }],
        },
      ],
    },
  };
  const judgedWith = (neighbour: KubeObject) =>
    validate(
      {
        uid: 'u',
        kind: 'NetworkPolicy',
        group: 'networking.k8s.io',
        version: 'v1',
        operation: 'CREATE',
        namespace: 'prod-x',
        name: 'api-out',
        object: restricted,
        oldObject: undefined,
        user: { username: 'alice', groups: [] },
        dryRun: false,
      },
      contextFor({ policy: defaultLevelsPolicy(), objects: [neighbour] }),
    );
  t.ok(
    judgedWith(calicoDns).findings.some((f) => f.rule === 'NP001'),
    'the Calico policy allows no DNS for the namespace',
  );
  t.notOk(
    judgedWith({ ...calicoDns, apiVersion: 'networking.k8s.io/v1' }).findings.some(
      (f) => f.rule === 'NP001',
    ),
    'the control: the same spelling as a Kubernetes policy does',
  );
});

t.test(
  'NP001: a dialect policy that restricts egress must allow DNS on UDP and TCP 53',
  async (t) => {
    const documents = loadFixture(`${DIR}/cilium-world-egress.yaml`);
    const policy = documents.at(-1) as KubeObject & { spec: { egress: unknown[] } };
    const withoutDns = {
      ...policy,
      spec: { ...policy.spec, egress: policy.spec.egress.slice(0, 1) },
    };
    const judgeObject = (object: KubeObject, annotations: Record<string, string> = {}) =>
      validate(
        {
          uid: 'u',
          kind: 'CiliumNetworkPolicy',
          group: 'cilium.io',
          version: 'v2',
          operation: 'CREATE',
          namespace: 'prod-x',
          name: 'crawler-out',
          object,
          oldObject: undefined,
          user: { username: 'alice', groups: [] },
          dryRun: false,
        },
        contextFor({
          policy: defaultLevelsPolicy(),
          objects: [
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod-x', annotations } },
          ],
        }),
      );
    const missing = judgeObject(withoutDns);
    t.same(
      found(missing).filter((f) => f.startsWith('NP001')),
      ['NP001 spec.egress'],
    );
    t.match(
      missing.findings.find((f) => f.rule === 'NP001')?.message,
      /DNS \(UDP\/TCP 53\) is not allowed/,
    );
    t.same(
      found(judgeObject(policy)).filter((f) => f.startsWith('NP001')),
      [],
      'the DNS rule to kube-dns satisfies it',
    );
    t.same(
      found(judgeObject(withoutDns, { 'netguard.dev/allow-dns': 'true' })).filter((f) =>
        f.startsWith('NP001'),
      ),
      [],
      "the namespace's DNS baseline satisfies it",
    );
  },
);
