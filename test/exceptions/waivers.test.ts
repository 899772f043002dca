import { GUARDRAILS_BY_ID } from '../../src/rules/guardrails.ts';
import { parse } from 'yaml';
import t from 'tap';
import { decodeReview } from '../../src/admission/decode.ts';
import { validate } from '../../src/engine/evaluate.ts';
import type { AdmissionInput } from '../../src/engine/types.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { waiversFromObjects } from '../../src/exceptions/object-source.ts';
import { loadExceptionFile } from '../../src/exceptions/file-source.ts';
import { createRegistry, waiverSet } from '../../src/exceptions/registry.ts';
import { waiverState } from '../../src/exceptions/state.ts';
import type { Waiver } from '../../src/exceptions/waiver.ts';
import { mutate } from '../../src/mutation/mutate.ts';
import { RULES_BY_ID } from '../../src/rules/registry.ts';
import { contextFor, shippedPolicy } from '../helpers/context.ts';
import { loadFixture, loadOne, reviewFor, type ReviewOptions } from '../helpers/reviews.ts';

const FIXTURES = 'test/fixtures/exceptions';
const policy = shippedPolicy();
const NOW = new Date('2026-11-22T00:00:00Z');
const fileWaivers = loadExceptionFile(`${FIXTURES}/waivers.yaml`, GUARDRAILS_BY_ID).waivers;
const clusterWaivers = waiversFromObjects(
  loadFixture(`${FIXTURES}/cluster-waivers.yaml`),
  () => {
    throw new Error('fixture does not parse');
  },
  GUARDRAILS_BY_ID,
);

/** The NetworkPolicy the NP004 example in docs/rules.md shows as firing. */
function crawlerPolicy(): KubeObject {
  const doc = RULES_BY_ID.get('NP004')?.doc.fires;
  if (doc === undefined) throw new Error('NP004 has no example');
  return parse(doc) as KubeObject;
}

function inputOf(object: KubeObject, options: ReviewOptions = {}): AdmissionInput {
  const decoded = decodeReview(reviewFor(object, options));
  if (!decoded.ok) throw new Error(decoded.problems.join('\n'));
  return decoded.input;
}

/** The crawler Pod is created by the ReplicaSet controller: its ownerReference counts. */
const REPLICASET_CONTROLLER = {
  user: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
};

function judge(object: KubeObject, waivers: readonly Waiver[], now = NOW) {
  const registry = createRegistry([() => waiverSet(waivers)]);
  const options = object['kind'] === 'Pod' ? REPLICASET_CONTROLLER : {};
  return validate(
    inputOf(object, options),
    contextFor({ policy, waivers: registry.view(policy.exceptions.warnBeforeMs), now }),
  );
}

const NP004_PATH = 'spec.egress[0].to[0].ipBlock.cidr';
const NP004_TEXT = '0.0.0.0/0 lets these pods reach the internet (except 10.0.0.0/8)';

t.test('without a waiver the NP004 example is denied in production', async (t) => {
  const decision = judge(crawlerPolicy(), []);
  t.equal(decision.allowed, false);
  t.same(
    decision.findings.map((f) => [f.rule, f.level, f.path]),
    [['NP004', 'deny', NP004_PATH]],
  );
});

t.test(
  'an active approved waiver turns the deny into a warning naming it and its days left',
  async (t) => {
    const decision = judge(crawlerPolicy(), fileWaivers);
    t.equal(decision.allowed, true);
    t.same(decision.warnings, [
      `netguard NP004: ${NP004_PATH}: ${NP004_TEXT} (waived by prod-crawl/crawler-egress until 2026-12-06 (14 days left))`,
    ]);
    t.same(decision.findings[0]?.waivedBy, {
      name: 'crawler-egress',
      namespace: 'prod-crawl',
      expires: '2026-12-06T00:00:00Z',
    });
  },
);

t.test(
  'expiry: one second before it waives (with an expiry warning), one second after it is ignored and named',
  async (t) => {
    const before = judge(crawlerPolicy(), fileWaivers, new Date('2026-12-05T23:59:59Z'));
    t.equal(before.allowed, true);
    t.same(before.warnings, [
      `netguard NP004: ${NP004_PATH}: ${NP004_TEXT} (waived by prod-crawl/crawler-egress until 2026-12-06 (1 day left))`,
      'netguard EX001: waiver prod-crawl/crawler-egress: expires on 2026-12-06 (1 day left); after that NP004 is enforced again',
    ]);
    const after = judge(crawlerPolicy(), fileWaivers, new Date('2026-12-06T00:00:01Z'));
    t.equal(after.allowed, false);
    t.equal(after.findings[0]?.waivedBy, undefined);
    t.match(
      after.message,
      `- NP004 world-egress at ${NP004_PATH}: ${NP004_TEXT}. Allow only the destinations they need (approved: none configured). (waiver prod-crawl/crawler-egress expired on 2026-12-06)`,
    );
    const waiver = fileWaivers[0];
    if (waiver === undefined) throw new Error('no waiver');
    t.equal(
      waiverState(waiver, new Date('2026-12-05T23:59:59Z'), policy.exceptions.warnBeforeMs),
      'expiring',
    );
    t.equal(
      waiverState(waiver, new Date('2026-12-06T00:00:00Z'), policy.exceptions.warnBeforeMs),
      'expired',
      'the expiry instant itself is past',
    );
    t.equal(
      waiverState(waiver, new Date('2026-11-28T23:59:59Z'), policy.exceptions.warnBeforeMs),
      'active',
      'more than warnBefore (7d) left',
    );
  },
);

t.test('pending and expired cluster waivers waive nothing and the denial says why', async (t) => {
  const decision = judge(crawlerPolicy(), clusterWaivers);
  t.equal(decision.allowed, false);
  t.same(decision.findings[0]?.notes, [
    'waiver prod-crawl/new-egress awaits approval',
    'waiver prod-crawl/self-approved awaits approval',
    'waiver prod-crawl/old-egress expired on 2026-11-20',
  ]);
  t.match(
    decision.message,
    '(waiver prod-crawl/new-egress awaits approval; waiver prod-crawl/self-approved awaits approval; waiver prod-crawl/old-egress expired on 2026-11-20)',
  );
});

t.test(
  'a waiver in another namespace, for another rule or another name does not match',
  async (t) => {
    const [waiver] = fileWaivers;
    if (waiver === undefined) throw new Error('no waiver');
    const elsewhere = { ...waiver, namespace: 'prod-other' };
    const otherRule = { ...waiver, rules: new Set(['NP005']) };
    const otherName = { ...waiver, target: { kind: 'NetworkPolicy', name: 'something-else' } };
    for (const candidate of [elsewhere, otherRule, otherName]) {
      t.equal(judge(crawlerPolicy(), [candidate]).allowed, false);
    }
  },
);

t.test(
  'a selector waiver on a Deployment waives its denial and adds the expiry warning',
  async (t) => {
    const decision = judge(loadOne(`${FIXTURES}/crawler-deployment.yaml`), fileWaivers);
    t.equal(decision.allowed, true);
    t.same(
      decision.findings.map((f) => [f.rule, f.level, f.waivedBy?.name]),
      [
        ['POD002', 'warn', 'crawler-labels'],
        ['EX001', 'warn', undefined],
      ],
    );
    t.match(
      decision.warnings[0],
      /^netguard POD002: spec\.template\.metadata\.labels\.tier: .* \(waived by prod-crawl\/crawler-labels until 2026-11-25 \(3 days left\)\)$/,
    );
    t.equal(
      decision.warnings[1],
      'netguard EX001: waiver prod-crawl/crawler-labels: expires on 2026-11-25 (3 days left); after that POD002 is enforced again',
    );
  },
);

t.test(
  "a Pod created by the Deployment's ReplicaSet matches the waiver through the selector, and by name",
  async (t) => {
    const pod = loadOne(`${FIXTURES}/crawler-pod.yaml`);
    const bySelector = judge(pod, fileWaivers);
    t.equal(bySelector.findings[0]?.rule, 'POD002');
    t.equal(bySelector.findings[0]?.waivedBy?.name, 'crawler-labels');
    t.same(bySelector.findings[0]?.notes, [
      'judged at its ReplicaSet crawler-7d9f8c6b5',
      'waived by prod-crawl/crawler-labels until 2026-11-25 (3 days left)',
    ]);

    const [, labels] = fileWaivers;
    if (labels === undefined) throw new Error('no waiver');
    const byName = {
      ...labels,
      name: 'crawler-by-name',
      target: { kind: 'Deployment', name: 'crawler' },
    };
    t.equal(
      judge(pod, [byName]).findings[0]?.waivedBy?.name,
      'crawler-by-name',
      'ReplicaSet name minus pod-template-hash is the Deployment',
    );
    const otherDeployment = {
      ...byName,
      target: { kind: 'Deployment', name: 'crawler-7d9f8c6b5' },
    };
    t.equal(judge(pod, [otherDeployment]).findings[0]?.waivedBy, undefined);

    const bare = loadOne(`${FIXTURES}/crawler-pod.yaml`);
    delete (bare['metadata'] as Record<string, unknown>)['ownerReferences'];
    const bareDecision = judge(bare, fileWaivers);
    t.equal(
      bareDecision.allowed,
      true,
      'a bare Pod with the selected labels is waived: deny → warn',
    );
    t.equal(judge(bare, []).allowed, false);
  },
);

t.test(
  'NS001 opt-out: an approved Namespace waiver in netguard-system keeps the baseline annotations off',
  async (t) => {
    const registry = createRegistry([() => waiverSet(fileWaivers)]);
    const namespace = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'legacy-batch', labels: { 'kubernetes.io/metadata.name': 'legacy-batch' } },
    };
    const waived = mutate(
      inputOf(namespace),
      contextFor({ policy, waivers: registry.view(policy.exceptions.warnBeforeMs), now: NOW }),
    );
    t.same(waived.patch, []);
    t.same(waived.warnings, [
      'netguard NS001: metadata.annotations: baseline annotations withheld for this namespace (waived by netguard-system/legacy-batch-baseline until 2026-12-01 (9 days left))',
    ]);
    const other = { ...namespace, metadata: { name: 'legacy-other' } };
    t.not(
      mutate(
        inputOf(other),
        contextFor({ policy, waivers: registry.view(policy.exceptions.warnBeforeMs), now: NOW }),
      ).patch.length,
      0,
    );
  },
);

t.test('counts per state for the metrics endpoint', async (t) => {
  const registry = createRegistry([() => waiverSet(fileWaivers), () => waiverSet(clusterWaivers)]);
  t.same(registry.countsByState(NOW, policy.exceptions.warnBeforeMs), {
    active: 2,
    expiring: 1,
    expired: 1,
    pending: 2,
  });
});
