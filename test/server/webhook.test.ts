import jsonpatch from 'fast-json-patch';
import t from 'tap';
import type { KubeObject } from '../../src/vocabulary.ts';
import { loadOne, reviewFor } from '../helpers/reviews.ts';
import { startWebhook, type RunningWebhook } from '../helpers/webhook.ts';

const fixture = (name: string): KubeObject => loadOne(`test/fixtures/${name}`);
const inNamespace = (object: KubeObject, namespace: string): KubeObject => {
  const copy = structuredClone(object);
  (copy['metadata'] as Record<string, unknown>)['namespace'] = namespace;
  return copy;
};

async function validate(webhook: RunningWebhook, review: ReturnType<typeof reviewFor>) {
  const reply = await webhook.post('/validate', review);
  if (reply.status !== 200) throw new Error(`HTTP ${reply.status}: ${reply.body}`);
  const body = reply.json();
  if (body.response.uid !== review.request.uid) throw new Error('uid not echoed');
  return body;
}

/** Applies the returned base64 JSON Patch to the object with an RFC 6902 library, as the API server does. */
function applyPatch(
  object: KubeObject,
  response: { patch?: string; patchType?: string },
): KubeObject {
  if (response.patch === undefined) return object;
  const operations = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
  return jsonpatch.applyPatch(structuredClone(object), operations, true).newDocument;
}

t.test('validating webhook', async (t) => {
  const webhook = await startWebhook(t);

  t.test(
    'a Deployment without tier in prod-shop is denied with POD001 at the template labels',
    async (t) => {
      const review = reviewFor(fixture('workloads/deployment-missing-tier.yaml'));
      const body = await validate(webhook, review);
      t.equal(body.apiVersion, 'admission.k8s.io/v1');
      t.equal(body.kind, 'AdmissionReview');
      t.equal(body.response.allowed, false);
      t.same(body.response.status, {
        code: 403,
        reason: 'Forbidden',
        message: [
          'Deployment prod-shop/shop-web violates 1 guardrail (environment production, mode enforce):',
          '- POD001 required-labels at spec.template.metadata.labels: required label "tier" is missing, so NetworkPolicies cannot select these pods by tier. Add the label tier (one of frontend, backend, data, sandbox) to spec.template.metadata.labels.',
          'Need more time? netguard exception request -n prod-shop --rule POD001 --target deployment/shop-web --expires 14d --reason "<why this is needed>" --apply',
        ].join('\n'),
      });
      t.equal(body.response.patch, undefined, '/validate never returns a patch');
    },
  );

  t.test(
    'the same Deployment in dev-shop is admitted with a single-line POD001 warning',
    async (t) => {
      const review = reviewFor(
        inNamespace(fixture('workloads/deployment-missing-tier.yaml'), 'dev-shop'),
      );
      const body = await validate(webhook, review);
      t.equal(body.response.allowed, true);
      t.equal(body.response.status, undefined);
      t.same(body.response.warnings, [
        'netguard POD001: spec.template.metadata.labels: required label "tier" is missing, so NetworkPolicies cannot select these pods by tier',
      ]);
    },
  );

  t.test('a labelled Deployment is admitted without warnings', async (t) => {
    const body = await validate(webhook, reviewFor(fixture('workloads/deployment-labelled.yaml')));
    t.equal(body.response.allowed, true);
    t.equal(body.response.warnings, undefined);
  });

  t.test('dryRun gets the same verdict', async (t) => {
    const body = await validate(
      webhook,
      reviewFor(fixture('workloads/deployment-missing-tier.yaml'), { dryRun: true }),
    );
    t.equal(body.response.allowed, false);
    t.match(body.response.status.message, /POD001 required-labels/);
  });

  t.test(
    'constrain denies hostNetwork and missing labels, and only warns on an unknown tier',
    async (t) => {
      const body = await validate(webhook, reviewFor(fixture('workloads/pod-bare.yaml')));
      t.equal(body.response.allowed, false);
      const message: string = body.response.status.message;
      t.match(
        message,
        /^Pod staging-shop\/debug violates 1 guardrail \(environment staging, mode constrain\):\n/,
      );
      t.match(
        message,
        /- POD003 host-network at spec\.hostNetwork: hostNetwork: true puts these pods in the node's network namespace, where NetworkPolicies do not apply\./,
      );
      t.match(
        message,
        /--rule POD003 --target pod\/debug --expires 30d --reason "<why this is needed>" --apply$/,
      );
      t.same(body.response.warnings, [
        'netguard POD002: metadata.labels.tier: tier "tools" is not an allowed value, so policies written for the known tiers will not select these pods',
      ]);
    },
  );

  t.test('a CronJob with an empty tier is judged at its job template', async (t) => {
    const body = await validate(webhook, reviewFor(fixture('workloads/cronjob-unlabelled.yaml')));
    t.equal(body.response.allowed, false);
    t.match(
      body.response.status.message,
      '- POD001 required-labels at spec.jobTemplate.spec.template.metadata.labels: required label "tier" is empty',
    );
    t.notMatch(body.response.status.message, /"app"/, 'app.kubernetes.io/name satisfies app');
  });

  t.test(
    'a Pod created by a ReplicaSet (generateName, no name) only warns: it is judged at its workload',
    async (t) => {
      const replicaSetController = {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        groups: [
          'system:serviceaccounts',
          'system:serviceaccounts:kube-system',
          'system:authenticated',
        ],
      };
      const body = await validate(
        webhook,
        reviewFor(fixture('workloads/pod-from-replicaset.yaml'), { user: replicaSetController }),
      );
      t.equal(body.response.allowed, true);
      t.same(body.response.warnings, [
        'netguard POD001: metadata.labels: required label "tier" is missing, so NetworkPolicies cannot select these pods by tier (judged at its ReplicaSet shop-web-7d9c5b8f6)',
      ]);
      const byHand = await validate(
        webhook,
        reviewFor(fixture('workloads/pod-from-replicaset.yaml')),
      );
      t.equal(
        byHand.response.allowed,
        false,
        'the same ownerReference written by a user (owner not in the cache) is judged as a bare Pod',
      );
    },
  );

  t.test(
    'UPDATE: a violation already in oldObject is downgraded to a pre-existing warning',
    async (t) => {
      const old = fixture('workloads/deployment-missing-tier.yaml');
      const changed = structuredClone(old) as any;
      changed.spec.template.spec.containers[0].image = 'nginx:1.27.3';
      const body = await validate(
        webhook,
        reviewFor(changed, { operation: 'UPDATE', oldObject: old }),
      );
      t.equal(body.response.allowed, true, 'an incident fix is never blocked by an old finding');
      t.same(body.response.warnings, [
        'netguard POD001: spec.template.metadata.labels: required label "tier" is missing, so NetworkPolicies cannot select these pods by tier (pre-existing: the object already had this before the update)',
      ]);
    },
  );

  t.test('UPDATE: a violation the change introduces is denied', async (t) => {
    const old = fixture('workloads/deployment-labelled.yaml');
    const changed = structuredClone(old) as any;
    delete changed.spec.template.metadata.labels.tier;
    const body = await validate(
      webhook,
      reviewFor(changed, { operation: 'UPDATE', oldObject: old }),
    );
    t.equal(body.response.allowed, false);
    t.match(
      body.response.status.message,
      /POD001 required-labels at spec\.template\.metadata\.labels/,
    );
  });

  t.test('objects in excluded namespaces are never judged', async (t) => {
    const body = await validate(
      webhook,
      reviewFor(inNamespace(fixture('workloads/pod-bare.yaml'), 'kube-system')),
    );
    t.equal(body.response.allowed, true);
    t.equal(body.response.warnings, undefined);
  });

  t.test('subresources are not matched', async (t) => {
    const review = reviewFor(fixture('workloads/pod-bare.yaml'), {
      operation: 'UPDATE',
      oldObject: fixture('workloads/pod-bare.yaml'),
    });
    (review.request as Record<string, unknown>)['subResource'] = 'status';
    const body = await validate(webhook, review);
    t.equal(body.response.allowed, true);
  });

  t.test(
    'NS002: removing the baseline annotation from a production namespace is denied, in development it warns',
    async (t) => {
      const old = {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'prod-payments',
          labels: { 'kubernetes.io/metadata.name': 'prod-payments' },
          annotations: {
            'netguard.dev/default-deny': 'Ingress,Egress',
            'netguard.dev/allow-dns': 'true',
          },
        },
      };
      const weakened = structuredClone(old);
      weakened.metadata.annotations['netguard.dev/default-deny'] = 'Ingress';
      const body = await validate(
        webhook,
        reviewFor(weakened, { operation: 'UPDATE', oldObject: old }),
      );
      t.equal(body.response.allowed, false);
      t.match(
        body.response.status.message,
        '- NS002 baseline-removal at metadata.annotations["netguard.dev/default-deny"]: changing netguard.dev/default-deny from "Ingress,Egress" to "Ingress" drops default-deny for Egress.',
      );
      t.match(
        body.response.status.message,
        /netguard exception request -n netguard-system --rule NS002 --target namespace\/prod-payments/,
      );

      const devOld = structuredClone(old);
      devOld.metadata.name = 'dev-payments';
      const devNew = structuredClone(devOld) as any;
      delete devNew.metadata.annotations['netguard.dev/allow-dns'];
      const dev = await validate(
        webhook,
        reviewFor(devNew, { operation: 'UPDATE', oldObject: devOld }),
      );
      t.equal(dev.response.allowed, true);
      t.same(dev.response.warnings, [
        'netguard NS002: metadata.annotations["netguard.dev/allow-dns"]: removing netguard.dev/allow-dns ("true") deletes this namespace\'s baseline NetworkPolicies',
      ]);
    },
  );
});

t.test('mutating webhook: NS001 namespace baseline', async (t) => {
  const webhook = await startWebhook(t);
  const mutateNamespace = async (namespace: KubeObject) => {
    const review = reviewFor(namespace);
    t.equal(
      review.request.namespace,
      String((namespace['metadata'] as any).name),
      'request.namespace is the new name, as the API server sends it',
    );
    const reply = await webhook.post('/mutate', review);
    t.equal(reply.status, 200);
    const body = reply.json();
    t.equal(body.response.uid, review.request.uid);
    t.equal(body.response.allowed, true);
    return { response: body.response, result: applyPatch(namespace, body.response) as any };
  };

  t.test('prod-payments gets default-deny Ingress,Egress and allow-dns', async (t) => {
    const { response, result } = await mutateNamespace(fixture('namespaces/prod-payments.yaml'));
    t.equal(response.patchType, 'JSONPatch');
    t.same(result.metadata.annotations, {
      'netguard.dev/default-deny': 'Ingress,Egress',
      'netguard.dev/allow-dns': 'true',
    });
    t.same(
      result.metadata.labels,
      { 'kubernetes.io/metadata.name': 'prod-payments', team: 'payments' },
      'labels untouched',
    );
  });

  t.test(
    'a value the user set is never overwritten; keys with "/" are escaped as ~1',
    async (t) => {
      const { response, result } = await mutateNamespace(
        fixture('namespaces/staging-user-annotated.yaml'),
      );
      const operations = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
      t.same(operations, [
        { op: 'add', path: '/metadata/annotations/netguard.dev~1allow-dns', value: 'true' },
      ]);
      t.same(result.metadata.annotations, {
        'netguard.dev/default-deny': 'Ingress,Egress',
        owner: 'search-team',
        'netguard.dev/allow-dns': 'true',
      });
    },
  );

  t.test('constrain gets Ingress only; observe gets only the baseline marker', async (t) => {
    const staging = await mutateNamespace({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'staging-cart', labels: { 'kubernetes.io/metadata.name': 'staging-cart' } },
    });
    t.same(staging.result.metadata.annotations, {
      'netguard.dev/default-deny': 'Ingress',
      'netguard.dev/allow-dns': 'true',
    });
    const dev = await mutateNamespace({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'dev-cart' },
    });
    t.same(dev.result.metadata.annotations, { 'netguard.dev/baseline': 'observe' });
  });

  t.test('the netguard.dev/environment label wins over the name', async (t) => {
    const { result } = await mutateNamespace(fixture('namespaces/labelled-production.yaml'));
    t.same(result.metadata.annotations, {
      'netguard.dev/default-deny': 'Ingress,Egress',
      'netguard.dev/allow-dns': 'true',
    });
  });

  t.test('excluded namespaces and other kinds get no patch', async (t) => {
    const system = await mutateNamespace({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'kube-system' },
    });
    t.equal(system.response.patch, undefined);
    const reply = await webhook.post(
      '/mutate',
      reviewFor(fixture('workloads/deployment-missing-tier.yaml')),
    );
    t.equal(reply.json().response.allowed, true, 'the mutating webhook never denies');
    t.equal(reply.json().response.patch, undefined);
  });
});
