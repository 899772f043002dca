import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { judgedKindOf } from '../../src/model/dialects/gvk.ts';
import { isClusterScopedPolicyKind } from '../../src/vocabulary.ts';

interface WebhookRule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
  scope: string;
}

const configs = parseAllDocuments(readFileSync('deploy/base/webhooks.yaml', 'utf8')).map(
  (doc) => doc.toJS() as { kind: string; webhooks: { name: string; rules: WebhookRule[] }[] },
);
const validating = configs
  .find((config) => config.kind === 'ValidatingWebhookConfiguration')
  ?.webhooks.find((webhook) => webhook.name === 'validate.netguard.dev');

/** The operations the validating webhook is called for on group/version/resource, and its scope. */
function registered(group: string, version: string, resource: string) {
  const rules = (validating?.rules ?? []).filter(
    (rule) =>
      rule.apiGroups.includes(group) &&
      rule.apiVersions.includes(version) &&
      rule.resources.includes(resource),
  );
  return {
    operations: [...new Set(rules.flatMap((r) => r.operations))].sort(),
    scopes: rules.map((r) => r.scope),
  };
}

// group, version, resource, kind as served, scope.
const DIALECTS: [string, string, string, string, 'Namespaced' | 'Cluster'][] = [
  ['cilium.io', 'v2', 'ciliumnetworkpolicies', 'CiliumNetworkPolicy', 'Namespaced'],
  [
    'cilium.io',
    'v2',
    'ciliumclusterwidenetworkpolicies',
    'CiliumClusterwideNetworkPolicy',
    'Cluster',
  ],
  ['cilium.io', 'v2alpha1', 'ciliumcidrgroups', 'CiliumCIDRGroup', 'Cluster'],
  ['cilium.io', 'v2', 'ciliumcidrgroups', 'CiliumCIDRGroup', 'Cluster'],
  ['projectcalico.org', 'v3', 'networkpolicies', 'NetworkPolicy', 'Namespaced'],
  ['projectcalico.org', 'v3', 'globalnetworkpolicies', 'GlobalNetworkPolicy', 'Cluster'],
  ['projectcalico.org', 'v3', 'globalnetworksets', 'GlobalNetworkSet', 'Cluster'],
  ['projectcalico.org', 'v3', 'networksets', 'NetworkSet', 'Namespaced'],
  ['crd.projectcalico.org', 'v1', 'networksets', 'NetworkSet', 'Namespaced'],
  ['crd.projectcalico.org', 'v1', 'networkpolicies', 'NetworkPolicy', 'Namespaced'],
  ['crd.projectcalico.org', 'v1', 'globalnetworkpolicies', 'GlobalNetworkPolicy', 'Cluster'],
  ['crd.projectcalico.org', 'v1', 'globalnetworksets', 'GlobalNetworkSet', 'Cluster'],
  [
    'policy.networking.k8s.io',
    'v1alpha2',
    'clusternetworkpolicies',
    'ClusterNetworkPolicy',
    'Cluster',
  ],
  ['policy.networking.k8s.io', 'v1alpha1', 'adminnetworkpolicies', 'AdminNetworkPolicy', 'Cluster'],
  [
    'policy.networking.k8s.io',
    'v1alpha1',
    'baselineadminnetworkpolicies',
    'BaselineAdminNetworkPolicy',
    'Cluster',
  ],
];

t.test('the validating webhook is called for every dialect resource netguard judges', async (t) => {
  t.ok(validating, 'validate.netguard.dev exists');
  for (const [group, version, resource, kind, scope] of DIALECTS) {
    const judged = judgedKindOf({ group, version, kind });
    t.notMatch(judged, /^unjudged:/, `${group}/${version} ${kind} is a judged kind (${judged})`);
    const { operations, scopes } = registered(group, version, resource);
    const expected = isClusterScopedPolicyKind(judged)
      ? ['CREATE', 'DELETE', 'UPDATE']
      : ['CREATE', 'UPDATE'];
    t.same(operations, expected, `${group}/${version}/${resource}: ${expected.join(', ')}`);
    t.ok(
      scopes.length > 0 && scopes.every((s) => s === scope),
      `${resource} registered as ${scope}`,
    );
  }
});

t.test('Staged Calico kinds enforce nothing and are neither registered nor judged', async (t) => {
  t.same(registered('projectcalico.org', 'v3', 'stagednetworkpolicies').operations, []);
  t.match(
    judgedKindOf({ group: 'projectcalico.org', version: 'v3', kind: 'StagedGlobalNetworkPolicy' }),
    /^unjudged:StagedGlobalNetworkPolicy/,
  );
});
