import { RULES_BY_ID } from '../../src/rules/registry.ts';
import { existsSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import t from 'tap';
import { validate } from '../../src/engine/evaluate.ts';
import { loadPolicyFile } from '../../src/config/load.ts';
import { contextFor } from '../helpers/context.ts';
import { loadFixture, reviewFor } from '../helpers/reviews.ts';
import { decodeReview } from '../../src/admission/decode.ts';
import { kustomize, skipFileWithoutKubectl } from '../helpers/kubectl.ts';

skipFileWithoutKubectl(t);

type Obj = Record<string, any>;

const render = (dir: string): Obj[] => kustomize(dir) as Obj[];

const base = render('deploy/');
const find = (kind: string, name?: string): Obj => {
  const found = base.find(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (found === undefined) throw new Error(`no ${kind} ${name ?? ''} in the rendered deploy/`);
  return found;
};

t.test('kubectl kustomize deploy/ renders the whole installation', async (t) => {
  t.same(
    base
      .map(
        (o) =>
          `${o.kind}/${o.metadata.namespace === undefined ? '' : `${o.metadata.namespace}/`}${o.metadata.name}`,
      )
      .sort(),
    [
      'ClusterRole/netguard',
      'ClusterRole/netguard-certs',
      'ClusterRole/netguard-controller',
      'ClusterRole/netguard-exception-approver',
      'ClusterRole/netguard-exception-requester',
      'ClusterRole/netguard-policy-reports',
      'ClusterRoleBinding/netguard',
      'ClusterRoleBinding/netguard-certs-webhook',
      'ClusterRoleBinding/netguard-controller',
      'ClusterRoleBinding/netguard-policy-reports',
      'ConfigMap/netguard-system/netguard-policy',
      'CustomResourceDefinition/guardrailexceptions.netguard.dev',
      'Deployment/netguard-system/netguard',
      'Deployment/netguard-system/netguard-controller',
      'MutatingWebhookConfiguration/netguard',
      'Namespace/netguard-system',
      'NetworkPolicy/netguard-system/netguard',
      'NetworkPolicy/netguard-system/netguard-controller',
      'PodDisruptionBudget/netguard-system/netguard',
      'PriorityClass/netguard-critical',
      'Role/netguard-system/netguard-leader-election',
      'Role/netguard-system/netguard-tls',
      'RoleBinding/netguard-system/netguard-leader-election',
      'RoleBinding/netguard-system/netguard-tls',
      'Secret/netguard-system/netguard-tls',
      'Service/netguard-system/netguard',
      'Service/netguard-system/netguard-controller-metrics',
      'ServiceAccount/netguard-system/netguard',
      'ServiceAccount/netguard-system/netguard-controller',
      'ValidatingWebhookConfiguration/netguard',
    ],
  );
});

t.test(
  'every rendered object validates against the Kubernetes OpenAPI schemas (kubernetes-models)',
  async (t) => {
    for (const object of [
      ...base,
      ...render('deploy/overlays/cert-manager').filter(
        (o) => !String(o.apiVersion).startsWith('cert-manager.io/'),
      ),
    ]) {
      const module: Obj = await import(
        `kubernetes-models/${String(object.apiVersion).includes('/') ? object.apiVersion : 'v1'}`
      );
      const Model = module[object.kind];
      t.type(Model, 'function', `kubernetes-models knows ${object.apiVersion} ${object.kind}`);
      t.doesNotThrow(
        () => new Model(object).validate(),
        `${object.kind}/${object.metadata.name} is valid`,
      );
    }
    // The check can fail: a wrong type is caught.
    const { Deployment } = await import('kubernetes-models/apps/v1');
    t.throws(() =>
      new Deployment({
        ...find('Deployment', 'netguard'),
        spec: { ...find('Deployment', 'netguard').spec, replicas: 'two' },
      }).validate(),
    );
  },
);

t.test('the cert-manager overlay injects the CA into both webhook configurations', async (t) => {
  const overlay = render('deploy/overlays/cert-manager');
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    t.equal(
      overlay.find((o) => o.kind === kind)?.metadata.annotations['cert-manager.io/inject-ca-from'],
      'netguard-system/netguard-ca',
      kind,
    );
  }
  const serving = overlay.find(
    (o) => o.kind === 'Certificate' && o.metadata.name === 'netguard-serving',
  );
  const pod = overlay.find((o) => o.kind === 'Deployment')?.spec.template.spec;
  t.equal(
    serving?.spec.secretName,
    pod.volumes.find((v: Obj) => v.name === 'tls').secret.secretName,
  );
  t.ok(pod.containers[0].args.includes('--certs=/etc/netguard/tls'), 'serves the mounted files');
  t.notOk(
    pod.containers[0].args.some((a: string) => a.startsWith('--certs-secret')),
    'does not manage the Secret itself',
  );
  t.same(
    pod.containers[0].volumeMounts.find((m: Obj) => m.name === 'tls'),
    { name: 'tls', mountPath: '/etc/netguard/tls', readOnly: true },
  );
  t.notOk(
    overlay.some(
      (o) =>
        (o.kind === 'Secret' || o.kind === 'Role' || o.kind === 'RoleBinding') &&
        o.metadata.name === 'netguard-tls',
    ),
    'no empty Secret, no Secret access',
  );
  t.notOk(overlay.some((o) => o.metadata.name === 'netguard-certs-webhook'));
  t.same(serving?.spec.dnsNames, [
    'netguard',
    'netguard.netguard-system',
    'netguard.netguard-system.svc',
    'netguard.netguard-system.svc.cluster.local',
  ]);
});

t.test('the Deployment is highly available, hardened and probed', async (t) => {
  const deployment = find('Deployment', 'netguard');
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  t.equal(deployment.spec.replicas, 2);
  t.same(
    pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution,
    [
      {
        topologyKey: 'kubernetes.io/hostname',
        labelSelector: { matchLabels: deployment.spec.selector.matchLabels },
      },
    ],
    'required anti-affinity: never two replicas on one node',
  );
  t.same(
    deployment.spec.strategy.rollingUpdate,
    { maxUnavailable: 1, maxSurge: 0 },
    'rollouts need no spare node',
  );
  t.notOk(container.args.includes('--controller'), 'the webhook runs no controller');
  t.equal(pod.priorityClassName, find('PriorityClass').metadata.name);
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  t.same(container.securityContext, {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
  });
  t.same(
    [container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path],
    ['/readyz', '/healthz'],
  );
  t.ok(
    container.resources.requests.cpu && container.resources.limits.memory,
    'requests and limits',
  );
  t.ok(container.lifecycle.preStop, 'a preStop delay lets endpoints drain before SIGTERM');
  t.ok(pod.terminationGracePeriodSeconds > 5 + 10, 'grace covers preStop plus one webhook timeout');
  t.equal(find('PodDisruptionBudget').spec.minAvailable, 1);
  t.same(
    find('PodDisruptionBudget').spec.selector.matchLabels,
    deployment.spec.selector.matchLabels,
  );
  t.same(find('Service').spec.selector, deployment.spec.selector.matchLabels);
  t.equal(pod.serviceAccountName, 'netguard', 'the webhook runs under the read-only identity');
});

t.test(
  'the controller runs apart: its own identity, the one NP011 trusts, on other nodes than its twin',
  async (t) => {
    const controller = find('Deployment', 'netguard-controller');
    const pod = controller.spec.template.spec;
    const [container] = pod.containers;
    t.equal(controller.spec.replicas, 2, 'a standby for the lease');
    t.same(container.args.slice(0, 1), ['controller']);
    t.ok(
      container.args.includes('--exceptions=/etc/netguard/policy/exceptions.yaml'),
      "the PolicyReport scan applies the webhook's file waivers",
    );
    t.equal(
      `system:serviceaccount:netguard-system:${pod.serviceAccountName}`,
      loadPolicyFile('policies/guardrails.yaml', RULES_BY_ID).controllerServiceAccount,
      'NP011 lets exactly this identity write baselines',
    );
    t.equal(
      pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey,
      'kubernetes.io/hostname',
    );
    t.same(container.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    t.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    t.ok(
      container.env.some((e: Obj) => e.name === 'POD_NAME'),
      'the lease identity from the downward API',
    );
    t.notSame(
      controller.spec.selector.matchLabels,
      find('Service').spec.selector,
      'the Service never sends reviews to controller pods',
    );
  },
);

t.test('netguard-system enforces the restricted Pod Security Standard', async (t) => {
  const labels = find('Namespace').metadata.labels;
  t.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted');
  t.equal(labels['pod-security.kubernetes.io/warn'], 'restricted');
});

t.test('the ConfigMap is generated from the one copy in policies/', async (t) => {
  t.notOk(existsSync('deploy/base/policies'), 'no second copy under deploy/');
  t.equal(
    find('ConfigMap').data['guardrails.yaml'],
    readFileSync('policies/guardrails.yaml', 'utf8'),
  );
  t.equal(
    find('ConfigMap').data['exceptions.yaml'],
    readFileSync('policies/exceptions.yaml', 'utf8'),
  );
});

t.test(
  'certificates out of the box: an empty Secret the webhook fills, and only the access it needs',
  async (t) => {
    const secret = find('Secret', 'netguard-tls');
    t.equal(secret.data, undefined, 'shipped empty: no key in git, none generated at build time');
    const [container] = find('Deployment').spec.template.spec.containers;
    t.ok(container.args.includes('--certs-secret=netguard-tls'));
    t.same(container.env.find((e: Obj) => e.name === 'POD_NAMESPACE').valueFrom, {
      fieldRef: { fieldPath: 'metadata.namespace' },
    });
    t.same(find('RoleBinding', 'netguard-tls').subjects, [
      { kind: 'ServiceAccount', name: 'netguard', namespace: 'netguard-system' },
    ]);
    t.same(find('ClusterRoleBinding', 'netguard-certs-webhook').roleRef.name, 'netguard-certs');
    t.same(find('ClusterRoleBinding', 'netguard-certs-webhook').subjects, [
      { kind: 'ServiceAccount', name: 'netguard', namespace: 'netguard-system' },
    ]);
  },
);

t.test(
  'docs/examples/kustomize-overlay: replicas, image, resources, failurePolicy and policy file configured',
  { skip: false },
  async (t) => {
    const overlay = render('docs/examples/kustomize-overlay');
    const deployment = overlay.find((o) => o.kind === 'Deployment');
    t.equal(deployment?.spec.replicas, 3);
    t.equal(
      deployment?.spec.template.spec.containers[0].image,
      'registry.example.com/netguard:0.1.0',
    );
    t.same(deployment?.spec.template.spec.containers[0].resources.requests, {
      cpu: '500m',
      memory: '256Mi',
    });
    const hooks = overlay
      .filter((o) => o.kind.endsWith('WebhookConfiguration'))
      .flatMap((o) => o.webhooks);
    t.ok(
      hooks.length >= 3 && hooks.every((h: Obj) => h.failurePolicy === 'Ignore'),
      'fail-open component',
    );
    const configMaps = overlay.filter((o) => o.kind === 'ConfigMap');
    t.equal(configMaps.length, 1);
    t.equal(
      configMaps[0]?.data['guardrails.yaml'],
      readFileSync('docs/examples/kustomize-overlay/my-guardrails.yaml', 'utf8'),
    );
    const install = readFileSync('docs/install.md', 'utf8');
    t.ok(
      install.includes(
        readFileSync('docs/examples/kustomize-overlay/kustomization.yaml', 'utf8').trim(),
      ),
      'docs/install.md shows the overlay as tested',
    );
  },
);

t.test(
  'docs/examples/kustomize-namespace: another namespace reaches the webhooks, their matchConditions and the bindings',
  async (t) => {
    const moved = render('docs/examples/kustomize-namespace');
    const hooks = moved
      .filter((o) => o.kind.endsWith('WebhookConfiguration'))
      .flatMap((o) => o.webhooks);
    t.ok(
      hooks.length >= 3 &&
        hooks.every((h: Obj) => h.clientConfig.service.namespace === 'platform-guard'),
    );
    t.ok(
      hooks.every((h: Obj) =>
        h.matchConditions[0].expression.startsWith("request.namespace != 'platform-guard' ||"),
      ),
    );
    t.ok(
      moved
        .filter((o) => o.kind.endsWith('Binding'))
        .flatMap((o) => o.subjects)
        .every((s: Obj) => s.namespace === 'platform-guard'),
    );
    t.same(
      [
        ...new Set(
          moved.filter((o) => o.metadata.namespace !== undefined).map((o) => o.metadata.namespace),
        ),
      ],
      ['platform-guard'],
    );
    t.equal(moved.find((o) => o.kind === 'Namespace')?.metadata.name, 'platform-guard');
    const install = readFileSync('docs/install.md', 'utf8');
    const shown = readFileSync('docs/examples/kustomize-namespace/kustomization.yaml', 'utf8')
      .trim()
      .split('\n')
      .map((line) => (line === '' ? '' : `  ${line}`))
      .join('\n');
    t.ok(install.includes(shown), 'docs/install.md shows the overlay as tested');
  },
);

t.test('RBAC grants only what each component reads or writes', async (t) => {
  const rules = (kind: string, name: string) =>
    find(kind, name).rules.map(
      (r: Obj) =>
        `${r.apiGroups.join(',')}/${r.resources.join(',')}:${r.verbs.join(',')}${r.resourceNames ? `@${r.resourceNames.join(',')}` : ''}`,
    );
  t.same(
    rules('ClusterRole', 'netguard'),
    [
      '/namespaces:get,list,watch',
      'networking.k8s.io/networkpolicies:get,list,watch',
      'netguard.dev/guardrailexceptions:get,list,watch',
      'cilium.io/ciliumnetworkpolicies,ciliumclusterwidenetworkpolicies,ciliumcidrgroups:list,watch',
      'projectcalico.org,crd.projectcalico.org/networkpolicies,globalnetworkpolicies,networksets,globalnetworksets:list,watch',
      '/events:create',
      '/pods,replicationcontrollers:get',
      'apps/deployments,replicasets,statefulsets,daemonsets:get',
      'batch/jobs,cronjobs:get',
    ],
    'the network-facing webhook only reads (and records waiver expiry Events)',
  );
  t.same(rules('ClusterRole', 'netguard-controller'), [
    '/namespaces:get,list,watch',
    'networking.k8s.io/networkpolicies:get,list,watch,create,update,delete',
    '/events:create',
    'netguard.dev/guardrailexceptions:get,list,watch',
  ]);
  t.same(rules('ClusterRole', 'netguard-exception-requester'), [
    'netguard.dev/guardrailexceptions:create,get,list',
  ]);
  t.same(
    find('ClusterRole', 'netguard-exception-requester').metadata.labels[
      'rbac.authorization.k8s.io/aggregate-to-edit'
    ],
    'true',
    'aggregated to edit',
  );
  t.same(rules('ClusterRole', 'netguard-exception-approver'), [
    'netguard.dev/guardrailexceptions:get,list,update,patch',
  ]);
  t.notOk(
    find('ClusterRole', 'netguard-exception-approver').metadata.labels?.[
      'rbac.authorization.k8s.io/aggregate-to-edit'
    ],
    'approving is not part of edit',
  );
  t.same(rules('Role', 'netguard-leader-election'), [
    'coordination.k8s.io/leases:create',
    'coordination.k8s.io/leases:get,update@netguard-controller',
  ]);
  const subjectsOf = (kind: string, name: string) =>
    find(kind, name).subjects.map((s: Obj) => s.name);
  t.same(subjectsOf('ClusterRoleBinding', 'netguard'), ['netguard']);
  t.same(subjectsOf('ClusterRoleBinding', 'netguard-controller'), ['netguard-controller']);
  t.same(subjectsOf('RoleBinding', 'netguard-leader-election'), ['netguard-controller']);
  const accounts = base
    .filter((o) => o.kind === 'ServiceAccount')
    .map((o) => o.metadata.name)
    .sort();
  const used = base
    .filter((o) => o.kind === 'Deployment')
    .map((o) => o.spec.template.spec.serviceAccountName)
    .sort();
  t.same(accounts, used, 'every service account is used by a Deployment, and only those exist');
  const everything = base.filter((o) => o.kind.endsWith('Role')).flatMap((o) => o.rules);
  t.notOk(
    everything.some((r: Obj) => [...r.verbs, ...r.resources, ...r.apiGroups].includes('*')),
    'no wildcards',
  );
  t.notOk(
    base
      .filter((o) => o.kind === 'ClusterRole')
      .flatMap((o) => o.rules)
      .some((r: Obj) => r.resources.includes('secrets')),
    'no cluster-wide Secret access',
  );
  t.same(
    rules('Role', 'netguard-tls'),
    ['/secrets:get,update@netguard-tls'],
    'the webhook reads and updates its own certificate Secret only',
  );
  t.same(rules('ClusterRole', 'netguard-policy-reports'), [
    '/pods,replicationcontrollers:list',
    'apps/deployments,statefulsets,daemonsets,replicasets:list',
    'batch/jobs,cronjobs:list',
    'netguard.dev/guardrailexceptions:list',
    'wgpolicyk8s.io/policyreports,clusterpolicyreports:get,list,create,update,delete',
  ]);
});

t.test('the controller identity may list everything its PolicyReport scan lists', async (t) => {
  // The scan is `netguard audit` run by the controller: namespaces, workloads, Pods, policies, waivers.
  const bound = base
    .filter((o) => o.kind === 'ClusterRoleBinding')
    .filter((o) =>
      o.subjects?.some((s: Obj) => s.kind === 'ServiceAccount' && s.name === 'netguard-controller'),
    )
    .map((o) => find('ClusterRole', o.roleRef.name));
  const mayList = (group: string, resource: string): boolean =>
    bound.some((role) =>
      role.rules.some(
        (r: Obj) =>
          r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes('list'),
      ),
    );
  const listed: [string, string][] = [
    ['', 'namespaces'],
    ['', 'pods'],
    ['', 'replicationcontrollers'],
    ['apps', 'deployments'],
    ['apps', 'statefulsets'],
    ['apps', 'daemonsets'],
    ['apps', 'replicasets'],
    ['batch', 'jobs'],
    ['batch', 'cronjobs'],
    ['networking.k8s.io', 'networkpolicies'],
    ['netguard.dev', 'guardrailexceptions'],
  ];
  t.same(
    listed.filter(([group, resource]) => !mayList(group, resource)).map(([g, r]) => `${g}/${r}`),
    [],
    'a 403 on any of these fails the whole scan',
  );
});

t.test('webhook configurations follow DESIGN.md', async (t) => {
  const validating = find('ValidatingWebhookConfiguration').webhooks;
  const mutating = find('MutatingWebhookConfiguration').webhooks;
  t.same(
    validating.map((w: Obj) => w.name),
    ['validate.netguard.dev', 'pods.validate.netguard.dev'],
  );
  t.same(
    validating.map((w: Obj) => w.failurePolicy),
    ['Fail', 'Ignore'],
    'pods fail open: netguard never blocks self-healing',
  );
  t.same(
    mutating.map((w: Obj) => w.name),
    ['mutate.netguard.dev'],
  );
  for (const webhook of [...validating, ...mutating]) {
    t.same(webhook.admissionReviewVersions, ['v1']);
    t.equal(webhook.sideEffects, 'None');
    t.equal(webhook.matchPolicy, 'Equivalent');
    t.ok(webhook.timeoutSeconds >= 1 && webhook.timeoutSeconds <= 30);
    t.ok(['Fail', 'Ignore'].includes(webhook.failurePolicy));
    t.same(webhook.clientConfig.service.name, find('Service').metadata.name);
    t.notOk(
      webhook.rules.some((r: Obj) => r.resources.some((res: string) => res.includes('/'))),
      'no subresources',
    );
    t.same(webhook.namespaceSelector.matchExpressions, [
      {
        key: 'kubernetes.io/metadata.name',
        operator: 'NotIn',
        values: ['kube-system', 'kube-public', 'kube-node-lease'],
      },
    ]);
  }
  // Policy dialect resources have their own test (dialect-webhooks.test.ts).
  const dialectGroups = [
    'cilium.io',
    'projectcalico.org',
    'crd.projectcalico.org',
    'policy.networking.k8s.io',
  ];
  const table = (webhooks: Obj[]) =>
    webhooks
      .flatMap((w) => w.rules)
      .filter((r: Obj) => !r.apiGroups.some((g: string) => dialectGroups.includes(g)))
      .flatMap((r: Obj) => r.resources.map((res: string) => `${res}:${r.operations.join(',')}`))
      .sort();
  t.same(table(validating), [
    'cronjobs:CREATE,UPDATE',
    'daemonsets:CREATE,UPDATE',
    'deployments:CREATE,UPDATE',
    'guardrailexceptions:CREATE,UPDATE',
    'jobs:CREATE,UPDATE',
    'namespaces:CREATE,UPDATE',
    'networkpolicies:CREATE,UPDATE,DELETE',
    'pods:CREATE,UPDATE',
    'replicasets:CREATE,UPDATE',
    'replicationcontrollers:CREATE,UPDATE',
    'statefulsets:CREATE,UPDATE',
  ]);
  t.same(table(mutating), ['guardrailexceptions:CREATE,UPDATE', 'namespaces:CREATE']);
});

t.test(
  "netguard's own NetworkPolicy and pods pass its guardrails as if judged in enforce",
  async (t) => {
    const judged = (object: Obj) => {
      const moved = {
        ...structuredClone(object),
        metadata: { ...object.metadata, namespace: 'prod-netguard' },
      };
      const decoded = decodeReview(reviewFor(moved));
      if (!decoded.ok) throw new Error(decoded.problems.join('\n'));
      return validate(decoded.input, contextFor());
    };
    // NP012 is the one finding, and netguard-system is excluded for it: the webhook's caller is the
    // API server, whose address no selector or fixed block can name (see networkpolicy.yaml).
    const expected: Record<string, string[]> = { NetworkPolicy: ['NP012'], Deployment: [] };
    for (const object of [
      find('NetworkPolicy'),
      find('Deployment', 'netguard'),
      find('Deployment', 'netguard-controller'),
    ]) {
      const decision = judged(object);
      t.equal(decision.mode, 'enforce');
      t.same(
        decision.findings.map((f) => f.rule),
        expected[object.kind],
        `${object.kind}: ${expected[object.kind]?.join(', ') || 'no findings'}`,
      );
    }
    // The check can fail: an empty `from` on 8443 would be NP002 allow-all.
    const open = structuredClone(find('NetworkPolicy'));
    delete open.spec.ingress[0].from;
    t.same(
      judged(open).findings.map((f) => f.rule),
      ['NP002'],
    );
  },
);

t.test("the CRD's schema accepts the example waivers and rejects bad ones", async (t) => {
  const crd = find('CustomResourceDefinition');
  const [version] = crd.spec.versions;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const validate = ajv.compile(version.schema.openAPIV3Schema);
  // The one CEL rule on target, evaluated as written: `has(self.name) != has(self.selector)`.
  const targetRule =
    version.schema.openAPIV3Schema.properties.spec.properties.target['x-kubernetes-validations'];
  t.same(
    targetRule.map((r: Obj) => r.rule),
    ['has(self.name) != has(self.selector)'],
  );
  const admits = (waiver: Obj): boolean =>
    validate(waiver) && 'name' in waiver.spec.target !== 'selector' in waiver.spec.target;

  const examples = loadFixture('test/fixtures/exceptions/waivers.yaml');
  t.same(loadFixture('policies/exceptions.yaml'), [], 'the shipped file holds no waiver');
  t.ok(examples.length >= 3);
  for (const waiver of examples)
    t.ok(admits(waiver), `${(waiver['metadata'] as Obj)['name']} is accepted`);
  t.ok(
    admits({
      ...(examples[0] as Obj),
      spec: { ...(examples[0] as Obj).spec, renews: 'crawler-egress' },
    }),
    'spec.renews is part of the schema',
  );

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
    'target with both name and selector': spoil(
      (s) =>
        (s.target = { kind: 'Deployment', name: 'x', selector: { matchLabels: { app: 'x' } } }),
    ),
    'target with neither': spoil((s) => (s.target = { kind: 'Deployment' })),
    'bad selector operator': spoil(
      (s) =>
        (s.target = {
          kind: 'Deployment',
          selector: { matchExpressions: [{ key: 'app', operator: 'Is' }] },
        }),
    ),
  };
  for (const [what, waiver] of Object.entries(bad)) t.notOk(admits(waiver), `rejected: ${what}`);
});

t.test(
  'deploy/monitoring alerts 3 days before a waiver expires, on the metric netguard serves',
  async (t) => {
    const monitoring = render('deploy/monitoring');
    t.same(monitoring.map((o) => o.kind).sort(), ['PrometheusRule', 'ServiceMonitor']);
    const rule = monitoring.find((o) => o.kind === 'PrometheusRule');
    t.equal(rule?.kind, 'PrometheusRule');
    t.equal(rule?.apiVersion, 'monitoring.coreos.com/v1');
    const alerts = rule?.spec.groups.flatMap((group: Obj) => group.rules);
    const soon = alerts.find((alert: Obj) => alert.alert === 'NetguardWaiverExpiresSoon');
    t.match(
      soon.expr,
      /max by \(namespace, name\) \(netguard_exception_expiry_timestamp_seconds\) - time\(\) < 3 \* 86400/,
    );
    t.match(soon.expr, /- time\(\) > 0/, 'expired waivers are the other alert');
    t.match(
      soon.annotations.description,
      /netguard exception renew -n \{\{ \$labels\.namespace \}\} \{\{ \$labels\.name \}\}/,
    );
    const { createMetrics } = await import('../../src/metrics.ts');
    const served = (
      await createMetrics({ processMetrics: false, waivers: () => [] }).registry.getMetricsAsJSON()
    ).map((m) => m.name);
    t.ok(
      served.includes('netguard_exception_expiry_timestamp_seconds'),
      'the alert reads a metric netguard serves',
    );
    t.notOk(
      base.some((o) => o.kind === 'PrometheusRule'),
      'the base installs without the Prometheus Operator',
    );
  },
);

t.test(
  'the controller is probed and scraped: /healthz, /readyz and /metrics on its port 9090',
  async (t) => {
    const [container] = find('Deployment', 'netguard-controller').spec.template.spec.containers;
    t.same(container.ports, [{ name: 'metrics', containerPort: 9090, protocol: 'TCP' }]);
    t.same(
      [container.livenessProbe.httpGet, container.readinessProbe.httpGet],
      [
        { path: '/healthz', port: 'metrics' },
        { path: '/readyz', port: 'metrics' },
      ],
    );
    t.equal(container.livenessProbe.timeoutSeconds, 2, 'the event loop answers within 2 s');
    const service = find('Service', 'netguard-controller-metrics');
    t.same(service.spec.selector, { app: 'netguard', 'app.kubernetes.io/component': 'controller' });
    const monitor = render('deploy/monitoring').find((o) => o.kind === 'ServiceMonitor');
    t.ok(
      Object.entries(monitor?.spec.selector.matchLabels ?? {}).every(
        ([key, value]) => service.metadata.labels?.[key] === value,
      ),
      "the ServiceMonitor selects the controller's Service",
    );
    t.ok(service.spec.ports.some((p: Obj) => p.name === monitor?.spec.endpoints[0].port));
  },
);
