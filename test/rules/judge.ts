import { RULES_BY_ID } from '../../src/rules/registry.ts';
import type { Test } from 'tap';
import { parsePolicy } from '../../src/config/load.ts';
import type { Policy } from '../../src/config/policy.ts';
import { validate } from '../../src/engine/evaluate.ts';
import type { AdmissionInput, Decision, Finding } from '../../src/engine/types.ts';
import type { KubeObject, Level, Mode, Operation } from '../../src/vocabulary.ts';
import { contextFor, labPolicy } from '../helpers/context.ts';
import { loadFixture } from '../helpers/reviews.ts';

export const RULE_FIXTURES = 'test/fixtures/network-policies/rules';

/** The namespace of each mode under the shipped policy. */
export const NAMESPACE_OF: Readonly<Record<Mode, string>> = {
  observe: 'dev-x',
  constrain: 'staging-x',
  enforce: 'prod-x',
};

/** The shipped environments without rule overrides: the rules' own default levels. */
export function defaultLevelsPolicy(): Policy {
  return parsePolicy(
    `apiVersion: netguard.dev/v1alpha1
kind: GuardrailPolicy
spec:
  defaultEnvironment: development
  environments:
    - {name: development, mode: observe, namespaces: ["dev-*"]}
    - {name: staging, mode: constrain, namespaces: ["staging-*"]}
    - {name: production, mode: enforce, namespaces: ["prod-*"]}
  networkPolicies:
    approvedEgressCIDRs: [160.79.104.0/23]
    privateCIDRs: [172.16.0.0/12]
    clusterCIDRs: [10.244.0.0/16, 10.96.0.0/12]
`,
    'default-levels',
    RULES_BY_ID,
  );
}

function moved(object: KubeObject, namespace: string): KubeObject {
  const metadata = object['metadata'];
  if (object['kind'] === 'Namespace')
    return { ...object, metadata: { ...(metadata as object), name: namespace } };
  return { ...object, metadata: { ...(metadata as object), namespace } };
}

export interface JudgeOptions {
  readonly namespace?: string;
  readonly policy?: Policy;
  /** Other objects the cluster holds (Namespaces, NetworkPolicies); moved to the same namespace. */
  readonly others?: readonly KubeObject[];
  readonly operation?: Operation;
  readonly oldObject?: KubeObject;
  readonly username?: string;
}

/** Runs the webhook's engine on one object, as an AdmissionReview of it would. */
export function judge(object: KubeObject, options: JudgeOptions = {}): Decision {
  const namespace = options.namespace ?? 'prod-x';
  const target = moved(object, namespace);
  const metadata = target['metadata'] as Record<string, unknown>;
  const operation = options.operation ?? 'CREATE';
  const input: AdmissionInput = {
    uid: 'test',
    kind: String(target['kind']),
    operation,
    namespace,
    name: String(metadata['name']),
    object: operation === 'DELETE' ? undefined : target,
    oldObject: options.oldObject === undefined ? undefined : moved(options.oldObject, namespace),
    user: { username: options.username ?? 'alice@example.com', groups: ['system:authenticated'] },
    dryRun: false,
  };
  const others = (options.others ?? []).map((other) => moved(other, namespace));
  return validate(input, contextFor({ policy: options.policy ?? labPolicy(), objects: others }));
}

/** The fixture's last document is judged; earlier ones (a Namespace, other policies) are the cluster around it. */
export function judgeFixture(file: string, options: JudgeOptions = {}): Decision {
  const documents = loadFixture(`${RULE_FIXTURES}/${file}`);
  const object = documents.at(-1);
  if (object === undefined) throw new Error(`${file} is empty`);
  return judge(object, {
    ...options,
    others: [...documents.slice(0, -1), ...(options.others ?? [])],
  });
}

export function findingsOf(decision: Decision, rule: string): Finding[] {
  return decision.findings.filter((finding) => finding.rule === rule);
}

export const rulesOf = (decision: Decision): string[] =>
  [...new Set(decision.findings.map((finding) => finding.rule))].sort();

/**
 * Judges a fixture in dev-x, staging-x and prod-x and checks the rule's level and the verdict in each.
 * `alone` means the fixture trips only this rule, so the verdict follows from its level.
 */
export function assertLevels(
  t: Test,
  file: string,
  rule: string,
  levels: Readonly<Record<Mode, Level>>,
  options: JudgeOptions & { alone?: boolean } = {},
): void {
  for (const mode of ['observe', 'constrain', 'enforce'] as const) {
    const decision = judgeFixture(file, { ...options, namespace: NAMESPACE_OF[mode] });
    const found = findingsOf(decision, rule);
    if (levels[mode] === 'off') {
      t.same(found, [], `${rule} is off in ${mode}`);
      continue;
    }
    t.ok(found.length > 0, `${rule} fires on ${file} in ${mode}`);
    t.same(
      [...new Set(found.map((finding) => finding.level))],
      [levels[mode]],
      `${rule} is ${levels[mode]} in ${mode}`,
    );
    if (options.alone === true) {
      t.same(rulesOf(decision), [rule], `${file} trips only ${rule}`);
      t.equal(
        decision.allowed,
        levels[mode] !== 'deny',
        `${file} is ${levels[mode] === 'deny' ? 'denied' : 'admitted'} in ${mode}`,
      );
    }
  }
}
