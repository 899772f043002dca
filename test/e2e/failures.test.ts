/**
 * When the call to netguard goes wrong, the API server decides by failurePolicy; these tests pin
 * what kubectl then prints. netguard runs as `netguard serve --certs DIR` (the container's command);
 * the negative cases use a tiny fake webhook over TLS.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  apiServer,
  LAST_APPLIED,
  mapWebhooks,
  webhookConfigurations,
  type ApiServer,
} from './api-server.ts';
import {
  fakeWebhook,
  fixture,
  renderDeploy,
  serveNetguard,
  serviceCertificates,
} from './netguard.ts';
import { skipFileWithoutKubectl } from '../helpers/kubectl.ts';

skipFileWithoutKubectl(t);

const rendered = renderDeploy();
const certs = serviceCertificates();
const FIXED = fixture('shop-web-fixed.yaml');
const UID = '6f1c9e4a-0000-4000-8000-000000000001';
/** The netguard Service's ClusterIP: without aggregator routing the API server dials it. */
const CLUSTER_IP = '10.96.183.24';

/** The shipped timeoutSeconds of validate.netguard.dev: the API server reports it in the URL. */
const shippedTimeout = ((): number => {
  for (const object of rendered) {
    const webhooks =
      (object as { webhooks?: { name: string; timeoutSeconds?: number }[] }).webhooks ?? [];
    const found = webhooks.find((w) => w.name === 'validate.netguard.dev');
    if (found !== undefined) return found.timeoutSeconds ?? 10;
  }
  throw new Error('deploy/ renders no validate.netguard.dev webhook');
})();

const withEvery = (change: Record<string, unknown>): unknown[] =>
  mapWebhooks(rendered, (w) => ({ ...w, ...change }));

/** The API server in front of `port` (undefined: the Service has no ready endpoints), prod-shop already there. */
function cluster(
  configurations: readonly unknown[],
  port: number | undefined,
  caBundle = certs.caBundle,
  aggregatorRouting = false,
): ApiServer {
  const service = (): { host: string; port: number } | undefined =>
    port === undefined ? undefined : { host: '127.0.0.1', port };
  const kubectl = apiServer({
    rendered: configurations,
    caBundle,
    service,
    uid: () => UID,
    clusterIP: CLUSTER_IP,
    aggregatorRouting,
  });
  kubectl.seed(fixture('namespaces.yaml'));
  servers.push(kubectl);
  return kubectl;
}
const servers: ApiServer[] = [];
t.teardown(() => {
  for (const server of servers) server.close();
});

const failedCalling = (reason: string, timeout = shippedTimeout): string =>
  'Error from server (InternalError): error when creating "shop-web.yaml": Internal error occurred: failed calling webhook "validate.netguard.dev": ' +
  reason.replace(
    'URL',
    `Post "https://netguard.netguard-system.svc:443/validate?timeout=${timeout}s"`,
  );

t.test(
  'netguard serve answers for the Service name; when it goes down, failurePolicy decides',
  async (t) => {
    const netguard = await serveNetguard(t, certs);
    const up = cluster(rendered, netguard.port);
    t.same(
      await up.apply('shop-web.yaml', FIXED),
      { lines: ['deployment.apps/shop-web created'], ok: true },
      'netguard serve reached through the harness',
    );
    t.match(
      (await up.apply('bad.yaml', fixture('egress-anywhere.yaml'))).lines[0],
      /denied the request: NetworkPolicy prod-shop\/egress-anywhere violates/,
    );
    await netguard.close();
    const port = netguard.port; // nothing listens there any more

    // The API server dials the Service's ClusterIP (no aggregator routing, the default); kube-proxy
    // forwards to the dead pod, or, with no ready endpoint, rejects: either way connection refused.
    const refused = [
      failedCalling(
        `failed to call webhook: URL: dial tcp ${CLUSTER_IP}:443: connect: connection refused`,
      ),
    ];
    const failClosed = await cluster(withEvery({ failurePolicy: 'Fail' }), port).apply(
      'shop-web.yaml',
      FIXED,
    );
    t.same(failClosed, { lines: refused, ok: false }, 'Fail: refused');

    const noEndpoints = await cluster(withEvery({ failurePolicy: 'Fail' }), undefined).apply(
      'shop-web.yaml',
      FIXED,
    );
    t.same(noEndpoints.lines, refused, 'Fail: no ready pods behind the Service, default routing');
    t.ok(
      readFileSync('docs/install.md', 'utf8').includes(
        `$ kubectl apply -f shop-web.yaml\n${noEndpoints.lines.join('\n')}\n`,
      ),
      'docs/install.md shows this refusal',
    );
    // Only kube-apiserver --enable-aggregator-routing resolves endpoints itself and says so.
    const routed = await cluster(
      withEvery({ failurePolicy: 'Fail' }),
      undefined,
      certs.caBundle,
      true,
    ).apply('shop-web.yaml', FIXED);
    t.same(
      routed.lines,
      [failedCalling('failed to call webhook: URL: no endpoints available for service "netguard"')],
      'aggregator routing: no endpoints',
    );
    t.ok(
      readFileSync('docs/install.md', 'utf8').includes(
        'no endpoints available for service "netguard"',
      ),
      'docs/install.md names the aggregator-routing wording',
    );
    const dead = await cluster(
      withEvery({ failurePolicy: 'Fail' }),
      port,
      certs.caBundle,
      true,
    ).apply('shop-web.yaml', FIXED);
    t.same(
      dead.lines,
      [
        failedCalling(
          `failed to call webhook: URL: dial tcp 127.0.0.1:${port}: connect: connection refused`,
        ),
      ],
      'aggregator routing: the endpoint itself refuses',
    );

    // As shipped, while netguard is down: a workload is refused, but a Pod (a ReplicaSet replacing a lost one) is admitted.
    const shipped = cluster(rendered, port);
    t.match(
      (await shipped.apply('shop-web.yaml', FIXED)).lines[0],
      /failed calling webhook "validate\.netguard\.dev"/,
      'shipped: workloads fail closed',
    );
    const replacement =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: shop-web-7d9c5-x2k4p, namespace: prod-shop, labels: {app: shop-web}}\nspec: {containers: [{name: web, image: nginx:1.27}]}\n';
    t.same(
      await shipped.apply('pod.yaml', replacement),
      { lines: ['pod/shop-web-7d9c5-x2k4p created'], ok: true },
      'shipped: pods fail open, self-healing never waits for netguard',
    );

    const failOpen = cluster(withEvery({ failurePolicy: 'Ignore' }), port);
    t.same(
      await failOpen.apply('shop-web.yaml', fixture('shop-web.yaml')),
      { lines: ['service/shop-web created', 'deployment.apps/shop-web created'], ok: true },
      'Ignore: even the Deployment netguard would deny is admitted',
    );
    t.same(
      await failOpen.apply(
        'namespace.yaml',
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: prod-late}\n',
      ),
      { lines: ['namespace/prod-late created'], ok: true },
    );
    t.match(failOpen.get('Namespace', undefined, 'prod-late')?.['metadata'], {
      name: 'prod-late',
      labels: { 'kubernetes.io/metadata.name': 'prod-late' },
    });
    t.same(
      Object.keys(
        Object(failOpen.get('Namespace', undefined, 'prod-late')?.['metadata']).annotations,
      ),
      [LAST_APPLIED],
      'Ignore: created without the NS001 baseline',
    );
  },
);

t.test('timeoutSeconds: a replica that accepts and never answers', async (t) => {
  const { port } = await fakeWebhook(t, certs, () => 'never');
  const hung = (policy: string): ApiServer =>
    cluster(withEvery({ failurePolicy: policy, timeoutSeconds: 1 }), port);
  t.same(await hung('Fail').apply('shop-web.yaml', FIXED), {
    lines: [failedCalling('failed to call webhook: URL: context deadline exceeded', 1)],
    ok: false,
  });
  t.same(await hung('Ignore').apply('shop-web.yaml', FIXED), {
    lines: ['deployment.apps/shop-web created'],
    ok: true,
  });
});

t.test('replies are checked as the API server checks them', async (t) => {
  const review = (
    response: Record<string, unknown>,
    envelope: Record<string, unknown> = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
    },
  ) => ({ status: 200, body: { ...envelope, response } });
  const cases: [string, (request: { uid: string }) => { status: number; body: unknown }, string][] =
    [
      [
        'a wrong uid',
        () => review({ uid: 'not-the-request-uid', allowed: true }),
        `received invalid webhook response: expected response.uid="${UID}", got "not-the-request-uid"`,
      ],
      [
        'a v1beta1 reply',
        (r) =>
          review(
            { uid: r.uid, allowed: true },
            { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview' },
          ),
        'received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got admission.k8s.io/v1beta1, Kind=AdmissionReview',
      ],
      [
        'no response',
        () => ({
          status: 200,
          body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' },
        }),
        'received invalid webhook response: webhook response was absent',
      ],
      [
        'a patch from a validating webhook',
        (r) =>
          review({
            uid: r.uid,
            allowed: true,
            patchType: 'JSONPatch',
            patch: Buffer.from('[]').toString('base64'),
          }),
        'received invalid webhook response: validating webhook may not return response.patch',
      ],
      // client-go quotes only a text body; a JSON one (netguard's error replies) is "unknown".
      [
        'HTTP 500',
        () => ({ status: 500, body: { error: 'internal error' } }),
        'failed to call webhook: an error on the server ("unknown") has prevented the request from succeeding',
      ],
      [
        'HTTP 400',
        () => ({ status: 400, body: { error: 'invalid AdmissionReview' } }),
        'failed to call webhook: the server rejected our request for an unknown reason',
      ],
      [
        'HTTP 413',
        () => ({ status: 413, body: { error: 'too large' } }),
        'failed to call webhook: the server responded with the status code 413 but did not return more information',
      ],
      [
        'HTTP 207',
        (r) => ({
          status: 207,
          body: {
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            response: { uid: r.uid, allowed: true },
          },
        }),
        'failed to call webhook: the server responded with the status code 207 but did not return more information',
      ],
      [
        'allowed of the wrong type',
        (r) => review({ uid: r.uid, allowed: 'yes' }),
        'failed to call webhook: json: cannot unmarshal string into Go struct field AdmissionResponse.response.allowed of type bool',
      ],
    ];
  for (const [what, reply, reason] of cases) {
    const { port } = await fakeWebhook(t, certs, reply);
    t.same(
      (await cluster(rendered, port).apply('shop-web.yaml', FIXED)).lines,
      [failedCalling(reason)],
      what,
    );
  }
  // The same fake with the right uid is accepted: the checks above are what failed.
  const { port } = await fakeWebhook(t, certs, (r) => ({
    status: 201,
    body: {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: r.uid,
        allowed: true,
        warnings: ['from the fake', 'two\nlines', 'a C1 control\u0085here', 'from the fake'],
      },
    },
  }));
  t.same(
    await cluster(rendered, port).apply('shop-web.yaml', FIXED),
    { lines: ['Warning: from the fake', 'deployment.apps/shop-web created'], ok: true },
    'a 201 is read; warnings with C0 or C1 controls are dropped, duplicates kept once',
  );
  // A reply without `allowed` decodes as allowed: false: a denial, not a calling error (no failurePolicy).
  const { port: silent } = await fakeWebhook(t, certs, (r) => review({ uid: r.uid }));
  t.same(
    await cluster(withEvery({ failurePolicy: 'Ignore' }), silent).apply('shop-web.yaml', FIXED),
    {
      lines: [
        'Error from server: error when creating "shop-web.yaml": admission webhook "validate.netguard.dev" denied the request without explanation',
      ],
      ok: false,
    },
    'no allowed: denied even under Ignore',
  );
});

t.test(
  'TLS: only the caBundle is trusted, and the certificate must name the Service',
  async (t) => {
    const netguard = await serveNetguard(t, certs);
    const stranger = serviceCertificates();
    t.same(
      (await cluster(rendered, netguard.port, stranger.caBundle).apply('shop-web.yaml', FIXED))
        .lines,
      [
        failedCalling(
          'failed to call webhook: URL: tls: failed to verify certificate: x509: certificate signed by unknown authority',
        ),
      ],
      'another CA',
    );
    const localhostOnly = serviceCertificates(['localhost']);
    const { port } = await fakeWebhook(t, localhostOnly, (r) => ({
      status: 200,
      body: {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: r.uid, allowed: true },
      },
    }));
    t.same(
      (await cluster(rendered, port, localhostOnly.caBundle).apply('shop-web.yaml', FIXED)).lines,
      [
        failedCalling(
          'failed to call webhook: URL: tls: failed to verify certificate: x509: certificate is valid for localhost, not netguard.netguard-system.svc',
        ),
      ],
      'a serving certificate without the Service DNS names',
    );
  },
);

t.test(
  "docs/install.md states every shipped webhook's failurePolicy, and only those",
  async (t) => {
    const shipped = webhookConfigurations(rendered)
      .flatMap((c) => c.webhooks.map((w) => `${w.name} ${w.failurePolicy}`))
      .sort();
    const documented = [
      ...readFileSync('docs/install.md', 'utf8').matchAll(
        /^\| `([a-z.]+\.netguard\.dev)` \| `(Fail|Ignore)` \|/gm,
      ),
    ]
      .map((m) => `${m[1]} ${m[2]}`)
      .sort();
    t.ok(shipped.length > 0);
    t.same(documented, shipped);
  },
);
