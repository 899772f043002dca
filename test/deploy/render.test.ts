import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { evaluate } from '../../src/engine/evaluate.ts';
import { contextFor, shippedPolicy } from '../helpers/context.ts';
import { loadFixture, reviewFor } from '../helpers/reviews.ts';
import { decodeReview } from '../../src/admission/decode.ts';

type Obj = Record<string, any>;

function render(dir: string): Obj[] {
  const text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(text).map((doc) => doc.toJS() as Obj);
}

const base = render('deploy/');
const find = (kind: string, name?: string): Obj => {
  const found = base.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found === undefined) throw new Error(`no ${kind} ${name ?? ''} in the rendered deploy/`);
  return found;
};

t.test('kubectl kustomize deploy/ renders the whole installation', async (t) => {
  t.same(
    base.map((o) => `${o.kind}/${o.metadata.namespace === undefined ? '' : `${o.metadata.namespace}/`}${o.metadata.name}`).sort(),
    [
      'ClusterRole/netguard',
      'ClusterRole/netguard-controller',
      'ClusterRoleBinding/netguard',
      'ClusterRoleBinding/netguard-controller',
      'ConfigMap/netguard-system/netguard-policy',
      'CustomResourceDefinition/guardrailexceptions.netguard.dev',
      'Deployment/netguard-system/netguard',
      'Deployment/netguard-system/netguard-controller',
      'MutatingWebhookConfiguration/netguard',
      'Namespace/netguard-system',
      'NetworkPolicy/netguard-system/netguard',
      'PodDisruptionBudget/netguard-system/netguard',
      'PriorityClass/netguard-critical',
      'Role/netguard-system/netguard-leader-election',
      'RoleBinding/netguard-system/netguard-leader-election',
      'Service/netguard-system/netguard',
      'ServiceAccount/netguard-system/netguard',
      'ServiceAccount/netguard-system/netguard-controller',
      'ValidatingWebhookConfiguration/netguard',
    ],
  );
});

t.test('every rendered object validates against the Kubernetes OpenAPI schemas (kubernetes-models)', async (t) => {
  for (const object of [...base, ...render('deploy/overlays/cert-manager').filter((o) => !String(o.apiVersion).startsWith('cert-manager.io/'))]) {
    const module: Obj = await import(`kubernetes-models/${String(object.apiVersion).includes('/') ? object.apiVersion : 'v1'}`);
    const Model = module[object.kind];
    t.type(Model, 'function', `kubernetes-models knows ${object.apiVersion} ${object.kind}`);
    t.doesNotThrow(() => new Model(object).validate(), `${object.kind}/${object.metadata.name} is valid`);
  }
  // The check can fail: a wrong type is caught.
  const { Deployment } = await import('kubernetes-models/apps/v1');
  t.throws(() => new Deployment({ ...find('Deployment', 'netguard'), spec: { ...find('Deployment', 'netguard').spec, replicas: 'two' } }).validate());
});

t.test('the cert-manager overlay injects the CA into both webhook configurations', async (t) => {
  const overlay = render('deploy/overlays/cert-manager');
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    t.equal(overlay.find((o) => o.kind === kind)?.metadata.annotations['cert-manager.io/inject-ca-from'], 'netguard-system/netguard-ca', kind);
  }
  const serving = overlay.find((o) => o.kind === 'Certificate' && o.metadata.name === 'netguard-serving');
  t.equal(serving?.spec.secretName, find('Deployment', 'netguard').spec.template.spec.volumes.find((v: Obj) => v.name === 'tls').secret.secretName);
  t.same(serving?.spec.dnsNames, ['netguard', 'netguard.netguard-system', 'netguard.netguard-system.svc', 'netguard.netguard-system.svc.cluster.local']);
});

t.test('the Deployment is highly available, hardened and probed', async (t) => {
  const deployment = find('Deployment', 'netguard');
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  t.equal(deployment.spec.replicas, 2);
  t.same(
    pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution,
    [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: deployment.spec.selector.matchLabels } }],
    'required anti-affinity: never two replicas on one node',
  );
  t.same(deployment.spec.strategy.rollingUpdate, { maxUnavailable: 1, maxSurge: 0 }, 'rollouts need no spare node');
  t.notOk(container.args.includes('--controller'), 'the webhook runs no controller');
  t.equal(pod.priorityClassName, find('PriorityClass').metadata.name);
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  t.same(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } });
  t.same([container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path], ['/readyz', '/healthz']);
  t.ok(container.resources.requests.cpu && container.resources.limits.memory, 'requests and limits');
  t.ok(container.lifecycle.preStop, 'a preStop delay lets endpoints drain before SIGTERM');
  t.ok(pod.terminationGracePeriodSeconds > 5 + 10, 'grace covers preStop plus one webhook timeout');
  t.equal(find('PodDisruptionBudget').spec.minAvailable, 1);
  t.same(find('PodDisruptionBudget').spec.selector.matchLabels, deployment.spec.selector.matchLabels);
  t.same(find('Service').spec.selector, deployment.spec.selector.matchLabels);
  t.equal(pod.serviceAccountName, 'netguard', 'the webhook runs under the read-only identity');
});

t.test('the controller runs apart: its own identity, the one NP011 trusts, on other nodes than its twin', async (t) => {
  const controller = find('Deployment', 'netguard-controller');
  const pod = controller.spec.template.spec;
  const [container] = pod.containers;
  t.equal(controller.spec.replicas, 2, 'a standby for the lease');
  t.same(container.args.slice(0, 1), ['controller']);
  t.equal(`system:serviceaccount:netguard-system:${pod.serviceAccountName}`, shippedPolicy().controllerServiceAccount, 'NP011 lets exactly this identity write baselines');
  t.equal(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey, 'kubernetes.io/hostname');
  t.same(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } });
  t.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  t.ok(container.env.some((e: Obj) => e.name === 'POD_NAME'), 'the lease identity from the downward API');
  t.notSame(controller.spec.selector.matchLabels, find('Service').spec.selector, 'the Service never sends reviews to controller pods');
});

t.test('netguard-system enforces the restricted Pod Security Standard', async (t) => {
  const labels = find('Namespace').metadata.labels;
  t.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted');
  t.equal(labels['pod-security.kubernetes.io/warn'], 'restricted');
});

t.test('the ConfigMap ships the same policy as policies/guardrails.yaml', async (t) => {
  t.equal(readFileSync('deploy/base/policies/guardrails.yaml', 'utf8'), readFileSync('policies/guardrails.yaml', 'utf8'));
  t.equal(find('ConfigMap').data['guardrails.yaml'], readFileSync('policies/guardrails.yaml', 'utf8'));
});

t.test('RBAC grants only what each component reads or writes', async (t) => {
  const rules = (kind: string, name: string) => find(kind, name).rules.map((r: Obj) => `${r.apiGroups.join(',')}/${r.resources.join(',')}:${r.verbs.join(',')}${r.resourceNames ? `@${r.resourceNames.join(',')}` : ''}`);
  t.same(rules('ClusterRole', 'netguard'), [
    '/namespaces:get,list,watch',
    'networking.k8s.io/networkpolicies:get,list,watch',
    'netguard.dev/guardrailexceptions:get,list,watch',
  ], 'the network-facing webhook only reads');
  t.same(rules('ClusterRole', 'netguard-controller'), ['/namespaces:get,list,watch', 'networking.k8s.io/networkpolicies:get,list,watch,create,update,delete']);
  t.same(rules('Role', 'netguard-leader-election'), ['coordination.k8s.io/leases:create', 'coordination.k8s.io/leases:get,update@netguard-controller']);
  const subjectsOf = (kind: string, name: string) => find(kind, name).subjects.map((s: Obj) => s.name);
  t.same(subjectsOf('ClusterRoleBinding', 'netguard'), ['netguard']);
  t.same(subjectsOf('ClusterRoleBinding', 'netguard-controller'), ['netguard-controller']);
  t.same(subjectsOf('RoleBinding', 'netguard-leader-election'), ['netguard-controller']);
  const accounts = base.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name).sort();
  const used = base.filter((o) => o.kind === 'Deployment').map((o) => o.spec.template.spec.serviceAccountName).sort();
  t.same(accounts, used, 'every service account is used by a Deployment, and only those exist');
  const everything = base.filter((o) => o.kind.endsWith('Role')).flatMap((o) => o.rules);
  t.notOk(everything.some((r: Obj) => [...r.verbs, ...r.resources, ...r.apiGroups].includes('*')), 'no wildcards');
  t.notOk(everything.some((r: Obj) => r.resources.includes('secrets')), 'no Secret access');
});

t.test('webhook configurations follow DESIGN.md', async (t) => {
  const validating = find('ValidatingWebhookConfiguration').webhooks;
  const mutating = find('MutatingWebhookConfiguration').webhooks;
  t.same(validating.map((w: Obj) => w.name), ['validate.netguard.dev', 'pods.validate.netguard.dev']);
  t.same(validating.map((w: Obj) => w.failurePolicy), ['Fail', 'Ignore'], 'pods fail open: netguard never blocks self-healing');
  t.same(mutating.map((w: Obj) => w.name), ['mutate.netguard.dev']);
  for (const webhook of [...validating, ...mutating]) {
    t.same(webhook.admissionReviewVersions, ['v1']);
    t.equal(webhook.sideEffects, 'None');
    t.equal(webhook.matchPolicy, 'Equivalent');
    t.ok(webhook.timeoutSeconds >= 1 && webhook.timeoutSeconds <= 30);
    t.ok(['Fail', 'Ignore'].includes(webhook.failurePolicy));
    t.same(webhook.clientConfig.service.name, find('Service').metadata.name);
    t.notOk(webhook.rules.some((r: Obj) => r.resources.some((res: string) => res.includes('/'))), 'no subresources');
    t.same(webhook.namespaceSelector.matchExpressions, [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-public', 'kube-node-lease'] }]);
  }
  const table = (webhooks: Obj[]) => webhooks.flatMap((w) => w.rules).flatMap((r: Obj) => r.resources.map((res: string) => `${res}:${r.operations.join(',')}`)).sort();
  t.same(table(validating), [
    'cronjobs:CREATE,UPDATE', 'daemonsets:CREATE,UPDATE', 'deployments:CREATE,UPDATE', 'guardrailexceptions:CREATE,UPDATE', 'jobs:CREATE,UPDATE',
    'namespaces:UPDATE', 'networkpolicies:CREATE,UPDATE,DELETE', 'pods:CREATE,UPDATE', 'replicasets:CREATE,UPDATE', 'replicationcontrollers:CREATE,UPDATE',
    'statefulsets:CREATE,UPDATE',
  ]);
  t.same(table(mutating), ['guardrailexceptions:CREATE,UPDATE', 'namespaces:CREATE']);
});

t.test("netguard's own NetworkPolicy and pods pass its guardrails as if judged in enforce", async (t) => {
  const judged = (object: Obj) => {
    const moved = { ...structuredClone(object), metadata: { ...object.metadata, namespace: 'prod-netguard' } };
    const decoded = decodeReview(reviewFor(moved));
    if (!decoded.ok) throw new Error(decoded.problems.join('\n'));
    return evaluate(decoded.input, contextFor());
  };
  for (const object of [find('NetworkPolicy'), find('Deployment', 'netguard'), find('Deployment', 'netguard-controller')]) {
    const decision = judged(object);
    t.equal(decision.mode, 'enforce');
    t.same(decision.findings.map((f) => f.rule), [], `${object.kind} has no findings`);
  }
  // The check can fail: an empty `from` on 8443 would be NP002 allow-all.
  const open = structuredClone(find('NetworkPolicy'));
  delete open.spec.ingress[0].from;
  t.same(judged(open).findings.map((f) => f.rule), ['NP002']);
});

t.test("the CRD's schema accepts the example waivers and rejects bad ones", async (t) => {
  const crd = find('CustomResourceDefinition');
  const [version] = crd.spec.versions;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const validate = ajv.compile(version.schema.openAPIV3Schema);
  // The one CEL rule on target, evaluated as written: `has(self.name) != has(self.selector)`.
  const targetRule = version.schema.openAPIV3Schema.properties.spec.properties.target['x-kubernetes-validations'];
  t.same(targetRule.map((r: Obj) => r.rule), ['has(self.name) != has(self.selector)']);
  const admits = (waiver: Obj): boolean => validate(waiver) && ('name' in waiver.spec.target) !== ('selector' in waiver.spec.target);

  const examples = [...loadFixture('test/fixtures/exceptions/waivers.yaml'), ...loadFixture('policies/exceptions.yaml')];
  t.ok(examples.length >= 3);
  for (const waiver of examples) t.ok(admits(waiver), `${(waiver['metadata'] as Obj)['name']} is accepted`);

  const good = examples[0] as Obj;
  const spoil = (change: (spec: Obj) => void): Obj => {
    const copy = structuredClone(good);
    change(copy.spec);
    return copy;
  };
  const bad: Record<string, Obj> = {
    'no expires': spoil((s) => delete s.expires),
    'expires not a date-time': spoil((s) => (s.expires = 'next tuesday')),
    'empty rules': spoil((s) => (s.rules = [])),
    'lower-case rule id': spoil((s) => (s.rules = ['np004'])),
    'empty reason': spoil((s) => (s.reason = '')),
    'no owner': spoil((s) => delete s.owner),
    'target without kind': spoil((s) => (s.target = { name: 'x' })),
    'target with both name and selector': spoil((s) => (s.target = { kind: 'Deployment', name: 'x', selector: { matchLabels: { app: 'x' } } })),
    'target with neither': spoil((s) => (s.target = { kind: 'Deployment' })),
    'bad selector operator': spoil((s) => (s.target = { kind: 'Deployment', selector: { matchExpressions: [{ key: 'app', operator: 'Is' }] } })),
  };
  for (const [what, waiver] of Object.entries(bad)) t.notOk(admits(waiver), `rejected: ${what}`);
});
