import t from 'tap';
import { auditCluster } from '../../src/audit/scan.ts';
import { NO_WAIVERS } from '../../src/engine/cluster-view.ts';
import { shippedPolicy } from '../helpers/context.ts';
import { loadFixture, loadOne } from '../helpers/reviews.ts';

const CNI = { enforcing: true, found: [], warning: undefined, fqdnEgress: false };

t.test(
  'audit judges what admission judges: forged owners and user-set managed-by labels are reported',
  async (t) => {
    const documents = loadFixture('test/fixtures/adversarial/audit-blind-spots.yaml');
    const namespaces = documents.filter((object) => object['kind'] === 'Namespace');
    const objects = documents.filter((object) => object['kind'] !== 'Namespace');
    const report = auditCluster({
      namespaces,
      objects,
      policy: shippedPolicy(),
      waivers: NO_WAIVERS,
      now: new Date('2026-11-22T12:00:00Z'),
      cni: CNI,
    });
    t.equal(
      report.summary.reportedAtOwner,
      0,
      'an owner that is not in the cluster proves nothing',
    );
    t.equal(report.summary.baselinePolicies, 1, 'only the real baseline policy is skipped');
    const [legacy] = report.namespaces;
    const found = (legacy?.rules ?? []).flatMap((group) =>
      group.findings.map(
        (finding) => `${group.rule} ${finding.kind}/${finding.name} ${finding.level}`,
      ),
    );
    t.ok(
      found.includes('POD003 Pod/miner deny'),
      'the forged-owner hostNetwork Pod is judged and denied',
    );
    t.ok(found.includes('POD001 Pod/miner deny'));
    t.ok(
      found.includes('NP002 NetworkPolicy/open-everything deny'),
      'the user-labelled policy is judged',
    );
    t.ok(found.includes('NP011 NetworkPolicy/open-everything deny'), 'and its label is called out');
    t.notOk(
      found.some((line) => line.includes('netguard-default-deny')),
      "the controller's own policy is not a finding",
    );
  },
);

t.test(
  'audit: a hand-made Pod naming a real ReplicaSet is judged itself; the ReplicaSet’s own Pods are reported at it',
  async (t) => {
    const load = (name: string) => loadOne(`test/fixtures/identities/${name}.yaml`);
    const replicaSet = load('replicaset-real');
    const genuine = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'shop-web-5d8f7c9b6-x2k4p',
        namespace: 'prod-shop',
        labels: { app: 'shop-web', tier: 'frontend', 'pod-template-hash': '5d8f7c9b6' },
        ownerReferences: (
          load('pod-naming-real-replicaset')['metadata'] as { ownerReferences: object }
        ).ownerReferences,
      },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
    };
    const report = auditCluster({
      namespaces: [load('namespaces')],
      objects: [replicaSet, genuine, load('pod-naming-real-replicaset')],
      policy: shippedPolicy(),
      waivers: NO_WAIVERS,
      now: new Date(),
      cni: CNI,
    });
    t.equal(
      report.summary.reportedAtOwner,
      1,
      'only the genuine Pod is folded into its ReplicaSet',
    );
    const found = (report.namespaces[0]?.rules ?? []).flatMap((group) =>
      group.findings.map((finding) => `${group.rule} ${finding.kind}/${finding.name}`),
    );
    t.ok(found.includes('POD003 Pod/miner'), 'the forged Pod is reported with its hostNetwork');
    t.notOk(found.some((line) => line.includes('x2k4p')));
  },
);
