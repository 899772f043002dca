/**
 * The lists that must agree, kept honest: the kinds table (src/model/kinds.ts), the rule registry,
 * the vocabulary's kind words, and the webhooks deploy/ registers.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { judgedKindOf } from '../../src/model/dialects/gvk.ts';
import { OWNERS_FIRST, SERVED_KINDS, WORKLOAD_KINDS } from '../../src/model/kinds.ts';
import { podTemplateOf } from '../../src/model/pod-template.ts';
import { canonicalKind } from '../../src/exceptions/request.ts';
import { RULES } from '../../src/rules/registry.ts';
import { WEBHOOK_ROUTES, webhookRoutes } from '../../src/rules/webhook-routes.ts';
import { CLUSTER_SCOPED_POLICY_KINDS, POD_KINDS } from '../../src/vocabulary.ts';
import { granted } from '../helpers/rbac.ts';

interface RegisteredRule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
  scope: string;
}
interface Webhook {
  name: string;
  clientConfig: { service: { path: string } };
  rules: RegisteredRule[];
}

const webhooks: Webhook[] = parseAllDocuments(readFileSync('deploy/base/webhooks.yaml', 'utf8'))
  .map((doc) => doc.toJS() as { webhooks: Webhook[] })
  .flatMap((config) => config.webhooks);

/** One line per webhook, group and resource: `webhook path group/resource scope OPS`, sorted. */
function deployed(): string[] {
  const lines = new Map<string, { path: string; scope: string; operations: Set<string> }>();
  for (const webhook of webhooks)
    for (const rule of webhook.rules)
      for (const group of rule.apiGroups)
        for (const resource of rule.resources) {
          const key = `${webhook.name} ${group}/${resource}`;
          const line = lines.get(key) ?? {
            path: webhook.clientConfig.service.path,
            scope: rule.scope,
            operations: new Set<string>(),
          };
          for (const operation of rule.operations) line.operations.add(operation);
          lines.set(key, line);
        }
  return [...lines.entries()]
    .map(
      ([key, line]) => `${key} ${line.path} ${line.scope} ${[...line.operations].sort().join(',')}`,
    )
    .sort();
}

const derived = (): string[] =>
  WEBHOOK_ROUTES.map(
    (route) =>
      `${route.webhook} ${route.group}/${route.resource} ${route.path} ${route.scope} ${route.operations.join(',')}`,
  ).sort();

t.test('deploy/ registers exactly the routes the rule registry asks for', async (t) => {
  t.ok(WEBHOOK_ROUTES.length > 20, `routes derived (${WEBHOOK_ROUTES.length})`);
  t.same(deployed(), derived(), 'webhook, resource, path, scope and operations');
  for (const route of WEBHOOK_ROUTES) {
    const registered = webhooks
      .find((webhook) => webhook.name === route.webhook)
      ?.rules.filter(
        (rule) => rule.apiGroups.includes(route.group) && rule.resources.includes(route.resource),
      )
      .flatMap((rule) => rule.apiVersions);
    t.same(
      route.versions.filter((version) => !(registered ?? []).includes(version)),
      [],
      `${route.webhook} ${route.group}/${route.resource}: every version netguard reads is sent`,
    );
  }
});

t.test('a rule for an operation deploy/ does not send is caught', async (t) => {
  const probe = RULES.find((rule) => rule.id === 'POD001');
  t.ok(probe);
  if (probe === undefined) return;
  const widened = webhookRoutes([...RULES, { ...probe, id: 'X', operations: ['DELETE'] }]);
  t.not(
    widened.map((route) => `${route.webhook} ${route.resource} ${route.operations.join(',')}`),
    WEBHOOK_ROUTES.map(
      (route) => `${route.webhook} ${route.resource} ${route.operations.join(',')}`,
    ),
  );
  t.ok(
    widened.some(
      (route) => route.resource === 'deployments' && route.operations.includes('DELETE'),
    ),
  );
});

t.test(
  'every kind a rule judges is served: the table knows where the API server sends it',
  async (t) => {
    const judged = new Set(RULES.flatMap((rule) => rule.kinds));
    const served = new Set(SERVED_KINDS.map((row) => row.judgedAs));
    t.same(
      [...judged].filter((kind) => !served.has(kind)),
      [],
    );
    // NP014's cluster-scoped policy kinds (the vocabulary) are the table's cluster-scoped policies.
    t.same(
      [...CLUSTER_SCOPED_POLICY_KINDS].sort(),
      SERVED_KINDS.filter((row) => row.scope === 'Cluster' && row.judgedAs !== 'Namespace')
        .map((row) => row.judgedAs)
        .filter((kind, index, all) => all.indexOf(kind) === index)
        .sort(),
    );
  },
);

t.test('the kinds table reads back through every derived lookup', async (t) => {
  for (const row of SERVED_KINDS)
    for (const version of row.versions)
      t.equal(
        judgedKindOf({ group: row.group, version, kind: row.kind }),
        row.judgedAs,
        `${row.group}/${version} ${row.kind}`,
      );
  t.same(
    WORKLOAD_KINDS.map((row) => row.kind),
    [...POD_KINDS],
    'one workload row per pod kind, in the vocabulary order',
  );
  for (const row of WORKLOAD_KINDS)
    t.equal(
      podTemplateOf(row.kind, {})?.prefix,
      row.podTemplate.length === 0 ? '' : `${row.podTemplate.join('.')}.`,
      `${row.kind}'s pod template`,
    );
  for (const row of SERVED_KINDS)
    for (const short of row.shortNames)
      t.equal(canonicalKind(short, RULES), row.judgedAs, `--target ${short}/x`);
  const order = OWNERS_FIRST.map((row) => row.kind);
  for (const row of WORKLOAD_KINDS)
    for (const owner of row.ownedBy)
      t.ok(order.indexOf(owner) < order.indexOf(row.kind), `${owner} is listed before ${row.kind}`);
});

t.test('netguard may read every workload kind the table lists', async (t) => {
  for (const row of WORKLOAD_KINDS) {
    t.ok(
      granted('deploy/base/rbac.yaml', 'netguard', row.group, row.resource).includes('get'),
      `expiry Events read a ${row.kind} target (get ${row.resource})`,
    );
    t.ok(
      granted(
        'deploy/base/rbac-policy-reports.yaml',
        'netguard-policy-reports',
        row.group,
        row.resource,
      ).includes('list'),
      `the PolicyReport scan pages ${row.resource} (list)`,
    );
  }
});
