/**
 * Issue 24, item 3: the effective environment (DESIGN "Who may, and until when"). A weaker
 * environment label counts only under an approved NS003 waiver, and only until it expires.
 */
import fc from 'fast-check';
import t from 'tap';
import {
  atLeastAsStrict,
  baseEnvironment,
  resolveNamespaceEnvironment,
} from '../../src/config/environment.ts';
import { renderAuditText } from '../../src/audit/render.ts';
import { auditCluster } from '../../src/audit/scan.ts';
import { mutate, validate } from '../../src/engine/evaluate.ts';
import { expiryMessage } from '../../src/kube/expiry-events.ts';
import type { AdmissionInput } from '../../src/engine/types.ts';
import { parseExceptionFile } from '../../src/exceptions/file-source.ts';
import { createRegistry } from '../../src/exceptions/registry.ts';
import type { KubeObject, Operation } from '../../src/vocabulary.ts';
import { contextFor, shippedPolicy } from '../helpers/context.ts';
import { guardedCluster } from '../helpers/admission-chain.ts';
import { loadOne } from '../helpers/reviews.ts';
import { findingsOf } from '../rules/judge.ts';
import '../helpers/property.ts';
import { GUARDRAILS_BY_ID } from '../../src/rules/guardrails.ts';

const ADVERSARIAL = 'test/fixtures/adversarial';
const DAY = 86_400_000;
const NOW = new Date();
const policy = shippedPolicy();
const fixture = (file: string): KubeObject => loadOne(`${ADVERSARIAL}/${file}.yaml`);

/** An approved NS003 waiver naming prod-payments, expiring `days` from NOW. */
function waiverFor(days: number, rule = 'NS003'): string {
  return `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: payments-to-dev, namespace: netguard-system}
spec:
  rules: [${rule}]
  target: {kind: Namespace, name: prod-payments}
  reason: Load tests against a staging copy of the ledger
  owner: team-pay@example.com
  expires: "${new Date(NOW.getTime() + days * DAY).toISOString()}"
`;
}

function contextAt(now: Date, waivers: string, objects: readonly KubeObject[] = []) {
  const registry = createRegistry([
    () => parseExceptionFile(waivers, 'waivers.yaml', GUARDRAILS_BY_ID),
  ]);
  return contextFor({
    policy,
    now,
    objects,
    waivers: registry.view(policy.exceptions.warnBeforeMs),
  });
}

function input(object: KubeObject, operation: Operation, oldObject?: KubeObject): AdmissionInput {
  const name = String((object['metadata'] as { name: string }).name);
  return {
    uid: 'u',
    kind: String(object['kind']),
    operation,
    namespace: String((object['metadata'] as { namespace?: string }).namespace ?? name),
    name,
    object,
    oldObject,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    dryRun: false,
  };
}

const POD: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'debug', namespace: 'prod-payments', labels: { app: 'debug' } },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
};

t.test(
  'an UPDATE dropping the labels a selector reads is NS003, judged where it was',
  async (t) => {
    const decision = validate(
      input(fixture('environment-selector-dropped'), 'UPDATE', fixture('environment-selector-old')),
      contextAt(NOW, ''),
    );
    t.equal(decision.allowed, false);
    t.equal(decision.environment, 'production');
    t.same(
      findingsOf(decision, 'NS003').map((f) => [f.level, f.path, f.message]),
      [
        [
          'deny',
          'metadata.labels',
          'these labels move the namespace from environment production (enforce) to development (observe), a weaker one, so its guardrails would stop being enforced.',
        ],
      ],
    );
  },
);

t.test(
  'a prod-* namespace created with a development label lands in production, with a warning',
  async (t) => {
    const created = fixture('environment-label-on-create');
    const ctx = contextAt(NOW, '');
    const decision = validate(input(created, 'CREATE'), ctx);
    t.equal(decision.allowed, true);
    t.equal(decision.environment, 'production');
    t.same(
      findingsOf(decision, 'NS003').map((f) => f.level),
      ['warn'],
    );
    t.match(decision.warnings[0], /^netguard NS003: .*environment=development is ignored/);
    t.same(
      mutate(input(created, 'CREATE'), ctx).patch,
      [
        {
          op: 'add',
          path: '/metadata/annotations',
          value: {
            'netguard.dev/default-deny': 'Ingress,Egress',
            'netguard.dev/allow-dns': 'true',
          },
        },
      ],
      'baselined as production',
    );
  },
);

t.test('under an approved NS003 waiver the label counts, and only until it expires', async (t) => {
  const waiver = waiverFor(10);
  const labelled = fixture('environment-escape-label');
  const moved = validate(
    input(labelled, 'UPDATE', fixture('environment-escape-old')),
    contextAt(NOW, waiver),
  );
  t.equal(moved.allowed, true, 'the move is waived');
  t.same(
    findingsOf(moved, 'NS003').map((f) => [f.level, f.waivedBy?.name]),
    [['warn', 'payments-to-dev']],
  );
  const during = validate(input(POD, 'CREATE'), contextAt(NOW, waiver, [labelled]));
  t.equal(during.environment, 'development', 'a Pod there is judged in development meanwhile');
  t.equal(during.allowed, true);

  const later = new Date(NOW.getTime() + 11 * DAY);
  const after = validate(input(POD, 'CREATE'), contextAt(later, waiver, [labelled]));
  t.equal(after.environment, 'production', 'the waiver expired: its own environment again');
  t.equal(after.allowed, false);
  t.match(after.message, 'POD001 required-labels');
  const update = validate(input(labelled, 'UPDATE', labelled), contextAt(later, waiver));
  t.equal(update.environment, 'production', 'both sides development, and still production');
  t.match(
    findingsOf(update, 'NS003')[0]?.message,
    'netguard.dev/environment=development is ignored',
  );
});

t.test(
  "a Namespace waiver is held to the limit of the namespace's own environment, never its label's",
  async (t) => {
    const tooLong = waiverFor(60); // development allows 90d; production, by name, 14d
    const decision = validate(
      input(POD, 'CREATE'),
      contextAt(NOW, tooLong, [fixture('environment-escape-label')]),
    );
    t.equal(decision.environment, 'production', 'a rejected waiver lets no label count');
    t.equal(decision.allowed, false);
  },
);

t.test('without a waiver the effective environment is never weaker than (b)', async () => {
  const names = fc.constantFrom('prod-a', 'staging-b', 'dev-c', 'other');
  const labelValue = fc.constantFrom('development', 'staging', 'production', 'unknown', '');
  fc.assert(
    fc.property(names, labelValue, fc.boolean(), (name, label, selector) => {
      const namespace = {
        name,
        labels: {
          'kubernetes.io/metadata.name': name,
          ...(label === '' ? {} : { 'netguard.dev/environment': label }),
          ...(selector ? { env: 'prod' } : {}),
        },
        annotations: {},
      };
      const resolved = resolveNamespaceEnvironment(policy, namespace);
      const base = baseEnvironment(policy, namespace).environment;
      const named = policy.environments.find((env) => env.name === label);
      const labelCounts = named !== undefined && atLeastAsStrict(policy, named, base);
      return (
        atLeastAsStrict(policy, resolved.environment, base) &&
        resolved.environment === (labelCounts ? named : base) &&
        (resolved.ignoredLabel !== undefined) === (named !== undefined && !labelCounts)
      );
    }),
  );
});

t.test(
  'through the API server: kubectl create of a prod-* namespace labelled development is admitted in production',
  async (t) => {
    const cluster = await guardedCluster(t);
    const reply = await cluster.send(
      'user',
      'POST',
      '/api/v1/namespaces',
      fixture('environment-label-on-create'),
    );
    t.equal(reply.status, 201);
    t.match(
      reply.warnings.join('\n'),
      'netguard NS003: metadata.labels["netguard.dev/environment"]: netguard.dev/environment=development is ignored',
    );
    t.same(reply.body?.['metadata']?.['annotations'], {
      'netguard.dev/default-deny': 'Ingress,Egress',
      'netguard.dev/allow-dns': 'true',
    });
  },
);

t.test(
  "an NS003 waiver's expiry Event names the baseline that will appear and points to reach",
  async (t) => {
    const [waiver] = parseExceptionFile(waiverFor(2), 'exceptions.yaml', GUARDRAILS_BY_ID).waivers;
    if (waiver === undefined) throw new Error('no waiver');
    t.match(
      expiryMessage(waiver, 'WaiverExpiring', NOW, policy),
      / Then prod-payments is judged in production \(enforce\) again and netguard keeps the NetworkPolicies netguard-allow-dns, netguard-default-deny there; see what they would cut: netguard reach --as-enforced$/,
    );
    const [other] = parseExceptionFile(
      waiverFor(2, 'NS002'),
      'exceptions.yaml',
      GUARDRAILS_BY_ID,
    ).waivers;
    if (other === undefined) throw new Error('no waiver');
    t.notMatch(expiryMessage(other, 'WaiverExpiring', NOW, policy), 'judged in production');
  },
);

t.test('audit lists a namespace whose weaker label no longer counts', async (t) => {
  const report = auditCluster({
    namespaces: [fixture('environment-escape-label')],
    objects: [],
    policy,
    waivers: createRegistry([
      () => parseExceptionFile(waiverFor(-1), 'w.yaml', GUARDRAILS_BY_ID),
    ]).view(policy.exceptions.warnBeforeMs),
    now: NOW,
    cni: { enforcing: true, found: [], warning: undefined, fqdnEgress: false },
  });
  const [payments] = report.namespaces;
  t.equal(payments?.environment, 'production');
  t.equal(payments?.ignoredEnvironmentLabel, 'development');
  t.match(
    renderAuditText(report),
    'prod-payments (production, enforce) — no workloads or policies; label netguard.dev/environment=development ignored (no approved NS003 waiver)',
  );
});
