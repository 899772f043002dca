import t from 'tap';
import {
  clusterRangesFrom,
  describeClusterRanges,
  OFFLINE_RANGES,
  RANGE_SOURCES,
} from '../../src/cluster-ranges.ts';
import { staticClusterView } from '../../src/engine/cluster-view.ts';
import { readClusterRanges } from '../../src/kube/cluster-ranges-reader.ts';
import { kubeRest } from '../../src/kube/rest.ts';
import { contextFor, shippedPolicy } from '../helpers/context.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { loadFixture, loadOne } from '../helpers/reviews.ts';
import { findingsOf, judge } from './judge.ts';
import { RULES_BY_ID } from '../../src/rules/registry.ts';

const DIR = 'test/fixtures/cluster-ranges';
const SOURCES = loadFixture(`${DIR}/sources.yaml`);
const AWS_NODE = loadOne(`${DIR}/aws-node.yaml`);
const DB_INGRESS = loadOne(`${DIR}/db-ingress.yaml`);

t.test(
  'clusterCIDRs: auto is the union of every source, identified by group and version',
  async (t) => {
    const ranges = clusterRangesFrom(SOURCES);
    t.same(
      ranges.ranges.map((entry) => entry.text),
      [
        '10.96.0.0/12',
        'fd00:10:96::/112',
        '10.244.1.0/24',
        'fd00:10:244:1::/64',
        '192.168.0.0/16',
        '172.30.0.0/16',
        '10.0.2.0/24',
        '10.20.0.0/16',
        'fd00:20::/104',
      ],
      'an IPPool of another group (198.51.100.0/24) is not a source',
    );
    t.same(ranges.sources, [
      'ServiceCIDR',
      'Node podCIDRs',
      'Calico IPPool',
      'CiliumNode',
      'CiliumPodIPPool',
    ]);
    t.equal(ranges.unknown, undefined);
    t.match(
      describeClusterRanges(ranges),
      /^clusterCIDRs 10\.96\.0\.0\/12, .* \(from ServiceCIDR, Node podCIDRs, Calico IPPool, CiliumNode, CiliumPodIPPool\)$/,
    );
  },
);

t.test('no source, or a CNI that gives pods VPC addresses: not known, and why', async (t) => {
  const none = clusterRangesFrom([]);
  t.match(none.unknown, /^no source of pod or service ranges answered .*; set clusterCIDRs$/);
  const vpc = clusterRangesFrom(SOURCES, [AWS_NODE]);
  t.match(vpc.unknown, /^the AWS VPC CNI gives pods VPC\/VNet addresses.*; set clusterCIDRs$/);
  t.match(describeClusterRanges(vpc), /^clusterCIDRs not known: the AWS VPC CNI/);
  t.match(OFFLINE_RANGES.unknown, /^offline: /);
});

t.test('NP005 with clusterCIDRs: auto judges against the ranges the cluster holds', async (t) => {
  const policy = shippedPolicy();
  t.equal(policy.networkPolicies.clusterCIDRsAuto, true, 'the shipped policy is auto');
  const decision = judge(DB_INGRESS, { namespace: 'prod-shop', policy, others: SOURCES });
  const np005 = findingsOf(decision, 'NP005');
  t.same(
    np005.map((finding) => [finding.path, finding.level]),
    [['spec.ingress[0].from[0].ipBlock.cidr', 'deny']],
    'the pod range block is denied in enforce; the public block is not a cluster range',
  );
  t.match(np005[0]?.message, '10.244.1.0/26 overlaps the cluster range 10.244.1.0/24');
  t.equal(decision.allowed, false);
});

t.test(
  'NP005 without known ranges: "not judged: set clusterCIDRs", a warning even in enforce',
  async (t) => {
    const decision = judge(DB_INGRESS, { namespace: 'prod-shop', policy: shippedPolicy() });
    const np005 = findingsOf(decision, 'NP005');
    t.same(
      np005.map((finding) => [finding.path, finding.level]),
      [['spec.ingress[0].from[0].ipBlock.cidr', 'warn']],
      'only the block in private address space; a public block is not maybe pods',
    );
    t.match(
      np005[0]?.message,
      /^not judged: set clusterCIDRs\. Whether 10\.244\.1\.0\/26 holds pod or service addresses cannot be told: offline: /,
    );
    t.equal(decision.allowed, true, 'never a denial');
    // A written list wins over auto: the same block is judged (lab policy: kind's ranges).
    const written = judge(DB_INGRESS, { namespace: 'prod-shop' });
    t.equal(findingsOf(written, 'NP005')[0]?.level, 'deny');
  },
);

t.test('an empty written list is not auto: NP005 says what to set', async (t) => {
  const { parsePolicy } = await import('../../src/config/load.ts');
  const policy = parsePolicy(
    `apiVersion: netguard.dev/v1alpha1
kind: GuardrailPolicy
spec:
  environments: [{name: production, mode: enforce, namespaces: ["prod-*"]}]
  networkPolicies: {clusterCIDRs: []}
`,
    'inline.yaml',
    RULES_BY_ID,
  );
  const ctx = contextFor({ policy, objects: SOURCES });
  t.equal(ctx.cluster.clusterRanges().unknown, undefined, 'the cluster would answer');
  const decision = judge(DB_INGRESS, { namespace: 'prod-shop', policy, others: SOURCES });
  t.match(findingsOf(decision, 'NP005')[0]?.message, 'clusterCIDRs is an empty list');
});

t.test('serve reads every source from the API server; unserved kinds answer nothing', async (t) => {
  const api = await startFakeKubeApi(t);
  const served = RANGE_SOURCES.filter((source) => source.kind === 'Node');
  for (const source of served)
    for (const object of SOURCES.filter((o) => o['kind'] === source.kind))
      api.seed(source.path, object);
  api.failNext('GET', /ciliumpodippools/, 404, 'NotFound', 10);
  const rest = kubeRest(api.kubeConfig());
  const ranges = await readClusterRanges(rest);
  t.same(ranges.sources, ['Node podCIDRs']);
  t.same(
    ranges.ranges.map((entry) => entry.text),
    ['10.244.1.0/24', 'fd00:10:244:1::/64'],
  );
  api.seed('/apis/apps/v1/daemonsets', AWS_NODE);
  t.match((await readClusterRanges(rest)).unknown, 'AWS VPC CNI');
  t.ok(staticClusterView([]).clusterRanges().unknown?.startsWith('offline'));
});
