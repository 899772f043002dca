import { RULES_BY_ID } from '../../src/rules/registry.ts';
import { ConfigError } from '../../src/errors.ts';
import t from 'tap';
import { loadPolicyFile } from '../../src/config/load.ts';

const dir = 'test/fixtures/config';

t.test('the shipped policy loads as DESIGN.md gives it', async (t) => {
  const policy = loadPolicyFile('policies/guardrails.yaml', RULES_BY_ID);
  t.same(
    policy.environments.map((env) => [env.name, env.mode, env.exceptionMaxDuration]),
    [
      ['development', 'observe', '90d'],
      ['staging', 'constrain', '30d'],
      ['production', 'enforce', '14d'],
    ],
  );
  t.equal(policy.defaultEnvironment.name, 'development');
  t.same(
    [...policy.excludedNamespaces],
    ['kube-system', 'kube-public', 'kube-node-lease', 'netguard-system'],
  );
  // "Defaults that are the user's own": nothing approved, cluster ranges read from the cluster.
  t.same(policy.networkPolicies.approvedEgressCIDRs, []);
  t.same(policy.networkPolicies.approvedEgressFQDNs, []);
  t.same(policy.networkPolicies.privateCIDRs, []);
  t.equal(policy.networkPolicies.clusterCIDRsAuto, true);
  t.same(policy.networkPolicies.clusterCIDRs, []);
  t.same(policy.networkPolicies.dns, {
    namespace: 'kube-system',
    podLabels: { 'k8s-app': 'kube-dns' },
  });
  t.equal(policy.exceptions.warnBeforeMs, 7 * 86_400_000);
  t.same(policy.exceptions.approverGroups, ['netguard:approvers']);
});

t.test('a minimal file fills every optional field with its default', async (t) => {
  const policy = loadPolicyFile(`${dir}/minimal.yaml`, RULES_BY_ID);
  t.equal(policy.defaultEnvironment.name, 'everywhere');
  t.equal(policy.environments[0]?.exceptionMaxDuration, '30d');
  t.same(
    policy.requiredLabels.map((label) => label.key),
    ['app', 'tier'],
  );
  t.ok(policy.excludedNamespaces.has('kube-system'));
  t.equal(policy.networkPolicies.clusterCIDRsAuto, true, 'clusterCIDRs defaults to auto');
});

t.test('privateCIDRs are checked at load like every CIDR list', async (t) => {
  const { parsePolicy } = await import('../../src/config/load.ts');
  const error = t.throws(() =>
    parsePolicy(
      `apiVersion: netguard.dev/v1alpha1
kind: GuardrailPolicy
spec:
  environments: [{name: prod, mode: enforce}]
  networkPolicies: {privateCIDRs: [10.0.0.0/8, 10.0.0.0/33], clusterCIDRs: automatic}
`,
      'inline.yaml',
      RULES_BY_ID,
    ),
  ) as Error;
  t.match(error.message, /clusterCIDRs/, 'only auto or a list');
  const bad = t.throws(() =>
    parsePolicy(
      `apiVersion: netguard.dev/v1alpha1
kind: GuardrailPolicy
spec:
  environments: [{name: prod, mode: enforce}]
  networkPolicies: {privateCIDRs: [10.0.0.0/8, 10.0.0.0/33]}
`,
      'inline.yaml',
      RULES_BY_ID,
    ),
  ) as Error;
  t.match(bad.message, 'spec.networkPolicies.privateCIDRs[1]');
  const fine = parsePolicy(
    `apiVersion: netguard.dev/v1alpha1
kind: GuardrailPolicy
spec:
  environments: [{name: prod, mode: enforce}]
  networkPolicies: {privateCIDRs: [10.0.0.0/8], clusterCIDRs: auto}
`,
    'inline.yaml',
    RULES_BY_ID,
  );
  t.same(
    fine.networkPolicies.privateRanges.map((entry) => entry.text),
    ['10.0.0.0/8'],
  );
});

const broken: [string, string][] = [
  ['unknown-field.yaml', `${dir}/unknown-field.yaml: spec.excludeNamespaces: unknown field`],
  [
    'bad-mode.yaml',
    `${dir}/bad-mode.yaml: spec.environments[1].mode: Invalid option: expected one of "observe"|"constrain"|"enforce"`,
  ],
  [
    'bad-pattern.yaml',
    `${dir}/bad-pattern.yaml: spec.environments[0].namespaces[0]: expected a namespace name pattern: lowercase letters, digits, "-" and "*" wildcards`,
  ],
  [
    'bad-duration.yaml',
    `${dir}/bad-duration.yaml: spec.environments[0].exceptionMaxDuration: expected a duration such as 90d, 12h or 2w (units s, m, h, d, w)`,
  ],
  [
    'duplicate-environment.yaml',
    `${dir}/duplicate-environment.yaml: spec.environments[1].name: duplicate environment "production"`,
  ],
  ['unknown-rule.yaml', `${dir}/unknown-rule.yaml: spec.rules.NP999: unknown rule ID`],
  [
    'missing-environments.yaml',
    `${dir}/missing-environments.yaml: spec.environments: required (array)`,
  ],
  [
    'empty.yaml',
    `${dir}/empty.yaml: the file is empty; a policy needs apiVersion, kind and spec.environments`,
  ],
  ['not-yaml.yaml', `${dir}/not-yaml.yaml: not valid YAML:`],
  ['does-not-exist.yaml', `${dir}/does-not-exist.yaml: cannot read: ENOENT`],
];

for (const [file, expected] of broken) {
  t.test(`${file} is refused with the file, the field and the problem`, async (t) => {
    const error = t.throws(() => loadPolicyFile(`${dir}/${file}`, RULES_BY_ID));
    t.type(error, ConfigError);
    t.ok(
      String((error as Error).message).startsWith(expected),
      `message: ${(error as Error).message}`,
    );
  });
}

t.test('CIDR lists are checked at load, and parsed once for the rules', async (t) => {
  const { parsePolicy } = await import('../../src/config/load.ts');
  const error = t.throws(() =>
    parsePolicy(
      `apiVersion: netguard.dev/v1alpha1
kind: GuardrailPolicy
spec:
  environments: [{name: prod, mode: enforce}]
  networkPolicies: {approvedEgressCIDRs: [160.79.104.0/23, 10/8], clusterCIDRs: ["fd00::/8", 300.1.1.1/32]}
`,
      'inline.yaml',
      RULES_BY_ID,
    ),
  ) as Error;
  t.equal(
    error.message,
    'inline.yaml: spec.networkPolicies.approvedEgressCIDRs[1]: "10/8" is not a CIDR block such as 10.244.0.0/16 or fd00::/8\n' +
      'inline.yaml: spec.networkPolicies.clusterCIDRs[1]: "300.1.1.1/32" is not a CIDR block such as 10.244.0.0/16 or fd00::/8',
  );
  const shipped = loadPolicyFile('policies/guardrails.yaml', RULES_BY_ID);
  const lab = loadPolicyFile('test/fixtures/policies/lab.yaml', RULES_BY_ID);
  t.equal(shipped.networkPolicies.clusterCIDRsAuto, true, 'the shipped policy reads the cluster');
  t.equal(lab.networkPolicies.clusterCIDRsAuto, false, 'a written list is not auto');
  t.same(
    lab.networkPolicies.clusterRanges.map((entry) => [entry.text, entry.range.prefix]),
    [
      ['10.244.0.0/16', 16],
      ['10.96.0.0/12', 12],
    ],
  );
});
