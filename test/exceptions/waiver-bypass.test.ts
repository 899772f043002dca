import { GUARDRAILS_BY_ID } from '../../src/rules/guardrails.ts';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { validate } from '../../src/engine/evaluate.ts';
import type { AdmissionInput } from '../../src/engine/types.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { waiversFromObjects } from '../../src/exceptions/object-source.ts';
import { parseExceptionFile } from '../../src/exceptions/file-source.ts';
import { renderWaiverTable, waiverRows } from '../../src/exceptions/listing.ts';
import { createRegistry, waiverSet } from '../../src/exceptions/registry.ts';
import type { Waiver } from '../../src/exceptions/waiver.ts';
import { waivableKinds } from '../../src/exceptions/scope-checks.ts';
import { RULES } from '../../src/rules/registry.ts';
import { contextFor, shippedPolicy } from '../helpers/context.ts';
import { loadOne } from '../helpers/reviews.ts';
import { findingsOf, judge } from '../rules/judge.ts';

const ADVERSARIAL = 'test/fixtures/adversarial';
const NOW = new Date('2026-11-22T12:00:00Z');
const policy = shippedPolicy();

function admit(object: KubeObject): ReturnType<typeof validate> {
  const metadata = object['metadata'] as { name: string; namespace: string };
  const input: AdmissionInput = {
    uid: 'u',
    kind: 'GuardrailException',
    operation: 'CREATE',
    namespace: metadata.namespace,
    name: metadata.name,
    object,
    oldObject: undefined,
    user: { username: 'alice@example.com', groups: [] },
    dryRun: false,
  };
  return validate(input, contextFor({ policy, now: NOW }));
}

const viewOver = (waivers: readonly Waiver[]) =>
  createRegistry([() => waiverSet(waivers)]).view(policy.exceptions.warnBeforeMs);

t.test('target.kind is spelled exactly: the webhook and the CRD judge the same list', async (t) => {
  const lowercase = admit(loadOne(`${ADVERSARIAL}/waiver-lowercase-namespace-kind.yaml`));
  t.equal(lowercase.allowed, false);
  t.same(
    findingsOf(lowercase, 'EX003').map((f) => [f.path, f.message]),
    [
      [
        'spec.target.kind',
        '"namespace" is not a kind netguard judges, spelled as Kubernetes spells it.',
      ],
    ],
  );
  const judgedKinds = new Set(
    RULES.flatMap((rule) => rule.kinds).filter((kind) => kind !== 'GuardrailException'),
  );
  const waivable = waivableKinds(GUARDRAILS_BY_ID);
  t.same([...waivable].sort(), [...judgedKinds].sort(), 'the list is the kinds rules judge');
  const crd = readFileSync('deploy/crds/guardrailexceptions.yaml', 'utf8');
  t.match(crd, `enum: [${waivable.join(', ')}]`, 'the CRD enumerates the same list');

  // Written while the webhook was down (or approved by hand): it still waives nothing.
  const approved = { ...loadOne(`${ADVERSARIAL}/waiver-lowercase-namespace-kind.yaml`) };
  (approved['spec'] as Record<string, unknown>)['approvedBy'] = 'carol@example.com';
  const [waiver] = waiversFromObjects([approved], () => undefined, GUARDRAILS_BY_ID);
  t.match(waiver?.rejected, [/^EX003 spec\.target\.kind: "namespace" is not a kind/]);
  const namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'prod-payments', annotations: { 'netguard.dev/default-deny': 'Ingress' } },
  };
  const old = {
    ...namespace,
    metadata: {
      ...namespace.metadata,
      annotations: { 'netguard.dev/default-deny': 'Ingress,Egress' },
    },
  };
  const input: AdmissionInput = {
    uid: 'u',
    kind: 'Namespace',
    operation: 'UPDATE',
    namespace: 'prod-payments',
    name: 'prod-payments',
    object: namespace,
    oldObject: old,
    user: { username: 'alice@example.com', groups: [] },
    dryRun: false,
  };
  const decision = validate(
    input,
    contextFor({ policy, now: NOW, waivers: viewOver(waiver === undefined ? [] : [waiver]) }),
  );
  t.equal(decision.allowed, false, 'NS002 is not waived');
  t.equal(
    findingsOf(decision, 'NS002')[0]?.waivedBy,
    undefined,
    'kinds match exactly: `namespace` covers nothing',
  );
});

t.test(
  'a Namespace waiver is held to the environment the named namespace resolves to, existing or not',
  async (t) => {
    const decision = admit(loadOne(`${ADVERSARIAL}/waiver-future-namespace.yaml`));
    t.equal(decision.allowed, false);
    const [finding] = findingsOf(decision, 'EX001');
    t.equal(finding?.path, 'spec.expires');
    t.match(finding?.fix, 'environment production allows at most 14d');
  },
);

t.test(
  'EX003 refuses a selector without an equality requirement; matching ignores one',
  async (t) => {
    const waiver = loadOne(`${ADVERSARIAL}/waiver-doesnotexist-selector.yaml`);
    const decision = admit(waiver);
    t.equal(decision.allowed, false);
    t.match(
      findingsOf(decision, 'EX003')[0]?.message,
      'has no equality requirement (matchLabels or In), so it would cover every Pod',
    );
    const [parsed] = waiversFromObjects(
      [{ ...waiver, spec: { ...(waiver['spec'] as object), approvedBy: 'carol@example.com' } }],
      () => undefined,
      GUARDRAILS_BY_ID,
    );
    const pod = judge(loadOne(`${ADVERSARIAL}/host-network-agent.yaml`));
    t.equal(pod.allowed, false);
    t.ok(parsed !== undefined && parsed.rejected.length > 0);
  },
);

t.test(
  'waivers from the file pass EX001-EX003; failing ones waive nothing and are listed as rejected',
  async (t) => {
    const set = parseExceptionFile(
      readFileSync(`${ADVERSARIAL}/waiver-file-2099-match-all.yaml`, 'utf8'),
      'exceptions.yaml',
      GUARDRAILS_BY_ID,
    );
    t.same(
      set.waivers.map((w) => [w.name, w.rejected.length > 0]),
      [
        ['forever', true],
        ['long-agent', false],
        ['lowercase', true],
      ],
    );
    const agent = loadOne(`${ADVERSARIAL}/host-network-agent.yaml`);
    const ctx = contextFor({ policy, now: NOW, waivers: viewOver(set.waivers) });
    const input: AdmissionInput = {
      uid: 'u',
      kind: 'Pod',
      operation: 'CREATE',
      namespace: 'prod-x',
      name: 'agent',
      object: { ...agent, metadata: { ...(agent['metadata'] as object), namespace: 'prod-x' } },
      oldObject: undefined,
      user: { username: 'alice@example.com', groups: [] },
      dryRun: false,
    };
    const decision = validate(input, ctx);
    t.equal(decision.allowed, false, 'no file waiver waives the hostNetwork Pod in production');
    const notes = findingsOf(decision, 'POD003')[0]?.notes ?? [];
    t.match(
      notes.join('\n'),
      /waiver prod-x\/long-agent is rejected: EX001 spec\.expires: 2099-01-01T00:00:00Z is \d+ days away; environment production allows at most 14d/,
    );
    t.equal(
      findingsOf(decision, 'POD003')[0]?.waivedBy,
      undefined,
      'the match-all selector covers nothing either',
    );

    const rows = waiverRows(set.waivers, NOW, policy.exceptions.warnBeforeMs, (waiver) =>
      waiver.namespace === 'prod-x'
        ? policy.environments.find((env) => env.name === 'production')
        : undefined,
    );
    t.same(
      rows.map((row) => [row.name, row.state]),
      [
        ['lowercase', 'rejected'],
        ['forever', 'rejected'],
        ['long-agent', 'rejected'],
      ],
    );
    const table = renderWaiverTable(rows);
    t.match(
      table,
      /prod-x\/forever rejected: EX003 spec\.target\.selector: has no equality requirement/,
    );
    t.match(
      table,
      /netguard-system\/lowercase rejected: EX003 spec\.target\.kind: "namespace" is not a kind netguard judges/,
    );
  },
);

t.test(
  'a waiver naming a workload never reaches a Pod through a forged ownerReference',
  async (t) => {
    const [waiver] = parseExceptionFile(
      `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: web-host-network, namespace: prod-x}
spec:
  rules: [POD001, POD003]
  target: {kind: Deployment, name: web}
  reason: The web tier moves off the host network in the December release
  owner: team-web@example.com
  expires: "2026-11-30T00:00:00Z"
`,
      'exceptions.yaml',
      GUARDRAILS_BY_ID,
    ).waivers;
    const pod = loadOne(`${ADVERSARIAL}/generate-name-pod.yaml`);
    const run = (objects: KubeObject[], username = 'mallory@example.com') => {
      const input: AdmissionInput = {
        uid: 'u',
        kind: 'Pod',
        operation: 'CREATE',
        namespace: 'prod-x',
        name: '',
        object: pod,
        oldObject: undefined,
        user: { username, groups: [] },
        dryRun: false,
      };
      return validate(
        input,
        contextFor({
          policy,
          now: NOW,
          objects,
          waivers: viewOver(waiver === undefined ? [] : [waiver]),
        }),
      );
    };
    const forged = run([]);
    t.equal(
      forged.allowed,
      false,
      'the ReplicaSet it names is not in the cluster: no waiver, no downgrade',
    );
    t.same(
      forged.findings.map((f) => f.waivedBy),
      [undefined, undefined],
    );
    const real = run(
      [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: { name: 'web-7d9c8b5f4', namespace: 'prod-x', uid: 'rs-web' },
        },
      ],
      'mallory@example.com',
    );
    t.equal(real.allowed, false, 'even a real ReplicaSet of that name proves nothing');
    const owned = run([], 'system:serviceaccount:kube-system:replicaset-controller');
    t.same(
      owned.findings.map((f) => f.waivedBy?.name),
      ['web-host-network', 'web-host-network'],
      "the real owner: the Deployment's waiver applies",
    );
  },
);
