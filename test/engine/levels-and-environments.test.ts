import { RULES_BY_ID } from '../../src/rules/registry.ts';
import t from 'tap';
import { resolveEnvironment } from '../../src/config/environment.ts';
import { parsePolicy } from '../../src/config/load.ts';
import { validate } from '../../src/engine/evaluate.ts';
import { warningLines } from '../../src/engine/message.ts';
import type { AdmissionInput, Finding } from '../../src/engine/types.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { contextFor, shippedPolicy, TEST_CLOCK } from '../helpers/context.ts';

const policy = shippedPolicy();
const ns = (name: string, labels: Record<string, string> = {}) => ({
  name,
  labels: { 'kubernetes.io/metadata.name': name, ...labels },
  annotations: {},
});

t.test(
  'environment resolution: label, then selector, then name pattern, then default',
  async (t) => {
    t.equal(
      resolveEnvironment(policy, ns('dev-shop', { 'netguard.dev/environment': 'production' })).name,
      'production',
      'label wins over the name',
    );
    t.equal(
      resolveEnvironment(policy, ns('dev-shop', { env: 'prod' })).name,
      'production',
      'selector wins over the name',
    );
    t.equal(resolveEnvironment(policy, ns('staging-api')).name, 'staging');
    t.equal(resolveEnvironment(policy, ns('sandbox-42')).name, 'development');
    t.equal(resolveEnvironment(policy, ns('payments')).name, 'development', 'default');
    t.equal(
      resolveEnvironment(policy, ns('prod-x', { 'netguard.dev/environment': 'nonexistent' })).name,
      'production',
      'an unknown label value falls through',
    );
  },
);

const pod = (
  namespace: string,
  labels: Record<string, string>,
  extra: KubeObject = {},
): AdmissionInput => ({
  uid: 'u',
  kind: 'Pod',
  group: '',
  version: 'v1',
  operation: 'CREATE',
  namespace,
  name: 'p',
  object: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace, labels },
    spec: { containers: [], ...extra },
  },
  oldObject: undefined,
  user: { username: 'alice', groups: [] },
  dryRun: false,
});

const levels = (decision: ReturnType<typeof validate>) =>
  decision.findings.map((f) => `${f.rule}:${f.level}`);

t.test('default levels per mode (observe / constrain / enforce)', async (t) => {
  const ctx = contextFor();
  const bad = { app: 'x', tier: 'web' };
  const hostNetwork = { hostNetwork: true };
  t.same(levels(validate(pod('dev-a', bad, hostNetwork), ctx)), ['POD002:warn', 'POD003:warn']);
  t.same(levels(validate(pod('staging-a', bad, hostNetwork), ctx)), ['POD002:warn', 'POD003:deny']);
  t.same(levels(validate(pod('prod-a', bad, hostNetwork), ctx)), ['POD002:deny', 'POD003:deny']);
  t.same(levels(validate(pod('dev-a', {}), ctx)), ['POD001:warn', 'POD001:warn']);
  t.same(levels(validate(pod('staging-a', {}), ctx)), ['POD001:deny', 'POD001:deny']);
});

t.test('config overrides: per environment, everywhere, off; observe never denies', async (t) => {
  const custom = parsePolicy(
    `apiVersion: netguard.dev/v1alpha1
kind: GuardrailPolicy
spec:
  environments:
    - {name: dev, mode: observe, namespaces: ["dev-*"]}
    - {name: stage, mode: constrain, namespaces: ["stage-*"]}
    - {name: prod, mode: enforce, namespaces: ["prod-*"]}
  rules:
    POD002: {levels: {stage: deny, prod: warn}}
    POD003: {level: off}
    POD001: {level: deny}
`,
    'inline',
    RULES_BY_ID,
  );
  const ctx = contextFor({ policy: custom });
  const labels = { app: 'x', tier: 'web' };
  t.same(
    levels(validate(pod('stage-a', labels, { hostNetwork: true }), ctx)),
    ['POD002:deny'],
    'POD003 off, POD002 raised',
  );
  t.same(levels(validate(pod('prod-a', labels), ctx)), ['POD002:warn'], 'POD002 lowered');
  const dev = validate(pod('dev-a', {}), ctx);
  t.same(levels(dev), ['POD001:warn', 'POD001:warn'], 'observe clamps an override to warn');
  t.equal(dev.allowed, true);
});

t.test(
  'warnings are one line, at most 256 characters, and the list stays under 4 KiB',
  async (t) => {
    const finding = (message: string): Finding => ({
      rule: 'POD002',
      name: 'label-values',
      level: 'warn',
      path: 'metadata.labels.tier',
      message,
      fix: 'Fix it.',
      notes: [],
    });
    const [line] = warningLines([finding('tier "a\nb\tc\u0007" is wrong.')]);
    t.equal(line, 'netguard POD002: metadata.labels.tier: tier "a b c " is wrong');
    const [long] = warningLines([finding(`${'x'.repeat(400)}.`)]);
    t.equal(long?.length, 256);
    t.ok(long?.endsWith('…'));
    const many = warningLines(Array.from({ length: 40 }, () => finding(`${'y'.repeat(200)}.`)));
    t.ok(many.join('').length <= 4096, `total ${many.join('').length}`);
    t.match(many.at(-1), /^netguard: \d+ more findings; run netguard check for the full list$/);
  },
);

t.test('hostile shapes never throw: prototype keys, wrong types, missing metadata', async (t) => {
  const ctx = contextFor();
  const hostile: KubeObject = JSON.parse(
    '{"metadata":{"labels":{"__proto__":{"tier":"x"},"constructor":"y","app":5}},"spec":{"hostNetwork":"true"}}',
  );
  const decision = validate({ ...pod('prod-a', {}), object: hostile }, ctx);
  t.same(
    levels(decision),
    ['POD001:deny', 'POD001:deny'],
    'non-string label values count as missing',
  );
  t.equal(({} as Record<string, unknown>)['tier'], undefined, 'Object.prototype untouched');
  t.same(levels(validate({ ...pod('prod-a', {}), object: {} }, ctx)), [
    'POD001:deny',
    'POD001:deny',
  ]);
});

t.test(
  "the controller's own baseline policies are not judged when the controller writes them",
  async (t) => {
    const ctx = contextFor();
    const allowSameNamespace: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: 'netguard-allow-same-namespace',
        namespace: 'staging-a',
        labels: { 'app.kubernetes.io/managed-by': 'netguard' },
      },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: {} }] }],
      },
    };
    const input = (username: string): AdmissionInput => ({
      uid: 'u',
      kind: 'NetworkPolicy',
      operation: 'CREATE',
      namespace: 'staging-a',
      name: 'netguard-allow-same-namespace',
      object: allowSameNamespace,
      oldObject: undefined,
      user: { username, groups: [] },
      dryRun: false,
    });
    const byController = validate(input(ctx.policy.controllerServiceAccount), ctx);
    t.equal(byController.allowed, true);
    t.same(byController.findings, []);
    const byUser = validate(input('alice'), ctx);
    t.same(
      levels(byUser),
      ['NP011:deny'],
      'anyone else creating it meets NP011 (the name is reserved); NP008 exempts same-namespace peers in constrain',
    );
  },
);

t.test(
  'GuardrailExceptions in the excluded netguard-system namespace are still judged (EX rules)',
  async (t) => {
    // The clock is pinned (TEST_CLOCK, 2026-11-22): the fixed expiry below is judged against it.
    const ctx = contextFor({ now: TEST_CLOCK });
    const waiver: KubeObject = {
      apiVersion: 'netguard.dev/v1alpha1',
      kind: 'GuardrailException',
      metadata: { name: 'legacy-batch-baseline', namespace: 'netguard-system' },
      spec: {
        rules: ['NS001'],
        target: { kind: 'Namespace', name: 'prod-legacy' },
        reason: '',
        owner: 'team@example.com',
        expires: '2027-06-01T00:00:00Z',
        requestedBy: 'alice',
        approvedBy: 'alice',
      },
    };
    const decision = validate(
      {
        uid: 'u',
        kind: 'GuardrailException',
        operation: 'CREATE',
        namespace: 'netguard-system',
        name: 'legacy-batch-baseline',
        object: waiver,
        oldObject: undefined,
        user: { username: 'alice', groups: ['netguard:approvers'] },
        dryRun: false,
      },
      ctx,
    );
    t.equal(decision.allowed, false);
    t.equal(decision.skipped, undefined);
    t.same(
      [...new Set(decision.findings.map((f) => f.rule))].sort(),
      ['EX001', 'EX002', 'EX004'],
      'expiry past production 14d, empty reason, self-approval',
    );
  },
);
