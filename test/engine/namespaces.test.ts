import { GUARDRAILS_BY_ID } from '../../src/rules/guardrails.ts';
import t from 'tap';
import { validate } from '../../src/engine/evaluate.ts';
import type { AdmissionInput } from '../../src/engine/types.ts';
import type { KubeObject, Operation } from '../../src/vocabulary.ts';
import { parseExceptionFile } from '../../src/exceptions/file-source.ts';
import { createRegistry } from '../../src/exceptions/registry.ts';
import { contextFor, shippedPolicy } from '../helpers/context.ts';
import { loadOne } from '../helpers/reviews.ts';
import { findingsOf } from '../rules/judge.ts';

const ADVERSARIAL = 'test/fixtures/adversarial';
const NOW = new Date('2026-11-22T12:00:00Z');
const policy = shippedPolicy();

function review(
  file: string,
  operation: Operation,
  oldFile?: string,
  waivers = '',
): ReturnType<typeof validate> {
  const object = loadOne(`${ADVERSARIAL}/${file}`);
  const oldObject: KubeObject | undefined =
    oldFile === undefined ? undefined : loadOne(`${ADVERSARIAL}/${oldFile}`);
  const name = String((object['metadata'] as { name: string }).name);
  const input: AdmissionInput = {
    uid: 'u',
    kind: 'Namespace',
    operation,
    namespace: name,
    name,
    object,
    oldObject,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    dryRun: false,
  };
  const registry = createRegistry([
    () => parseExceptionFile(waivers, 'waivers.yaml', GUARDRAILS_BY_ID),
  ]);
  return validate(
    input,
    contextFor({ policy, now: NOW, waivers: registry.view(policy.exceptions.warnBeforeMs) }),
  );
}

t.test(
  'environment escape: a weaker label is ignored with an NS003 warning; the namespace stays in production',
  async (t) => {
    const moved = review('environment-escape-label.yaml', 'UPDATE', 'environment-escape-old.yaml');
    t.equal(moved.allowed, true, 'not denied: the label simply does not count');
    t.equal(moved.environment, 'production');
    t.same(
      findingsOf(moved, 'NS003').map((f) => [f.level, f.path, f.message]),
      [
        [
          'warn',
          'metadata.labels["netguard.dev/environment"]',
          'netguard.dev/environment=development is ignored: it names development (observe), weaker than production (enforce), so the namespace is judged and baselined in production.',
        ],
      ],
    );

    const both = review(
      'environment-escape-and-baseline-removal.yaml',
      'UPDATE',
      'environment-escape-old.yaml',
    );
    t.same(
      findingsOf(both, 'NS002').map((f) => f.level),
      ['deny', 'deny'],
      'NS002 stays a deny: judged in production',
    );
    t.equal(both.allowed, false);
  },
);

t.test(
  'moving to a stricter environment and replacing the observe marker is allowed',
  async (t) => {
    const up = review('observe-marker-to-production.yaml', 'UPDATE', 'observe-marker-old.yaml');
    t.same(up.findings, [], 'no NS002 (not a removal) and no NS003 (stricter)');
    t.equal(up.allowed, true);
  },
);

t.test(
  'opt-out on create: weaker or invalid baseline values are NS002 unless waived',
  async (t) => {
    const optOut = review('opt-out-on-create.yaml', 'CREATE');
    t.equal(optOut.allowed, false);
    t.same(
      findingsOf(optOut, 'NS002').map((f) => [f.path, f.level]),
      [
        ['metadata.annotations["netguard.dev/default-deny"]', 'deny'],
        ['metadata.annotations["netguard.dev/allow-dns"]', 'deny'],
      ],
    );
    t.match(
      findingsOf(optOut, 'NS002')[0]?.message,
      '"none" is not a list of policy types (Ingress, Egress)',
    );
    const weaker = review('weaker-baseline-on-create.yaml', 'CREATE');
    t.equal(
      findingsOf(weaker, 'NS002')[0]?.message,
      '"Ingress" leaves out default-deny for Egress, which environment production (enforce) gives every new namespace.',
    );

    const waiver = `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: batch-no-baseline, namespace: netguard-system}
spec:
  rules: [NS002]
  target: {kind: Namespace, name: prod-batch}
  reason: Legacy batch runs with host-level firewalling until the migration
  owner: team-batch@example.com
  expires: "2026-12-01T00:00:00Z"
`;
    const waived = review('opt-out-on-create.yaml', 'CREATE', undefined, waiver);
    t.equal(waived.allowed, true, 'an approved NS002 waiver naming the namespace lets it through');
    t.equal(waived.findings[0]?.waivedBy?.name, 'batch-no-baseline');
  },
);
