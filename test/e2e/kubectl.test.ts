/**
 * A developer's day through the API server harness: deploy/'s webhook configurations, a caBundle,
 * and netguard serving over TLS for the Service's DNS names. Every assertion is on what kubectl
 * prints or what the cluster stores.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { apiServer, LAST_APPLIED, transcript, type KubectlResult } from './api-server.ts';
import { fixture, renderDeploy, serviceCertificates, startNetguard } from './netguard.ts';
import { skipFileWithoutKubectl } from '../helpers/kubectl.ts';

skipFileWithoutKubectl(t);

const rendered = renderDeploy();
const certs = serviceCertificates();
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const DENIAL =
  'Error from server (Forbidden): error when creating "shop-web.yaml": admission webhook "validate.netguard.dev" denied the request: ' +
  'Deployment prod-shop/shop-web violates 1 guardrail (environment production, mode enforce):\n' +
  '- POD001 required-labels at spec.template.metadata.labels: required label "tier" is missing, so NetworkPolicies cannot select these pods by tier. ' +
  'Add the label tier (one of frontend, backend, data, sandbox) to spec.template.metadata.labels.\n' +
  'Need more time? netguard exception request -n prod-shop --rule POD001 --target deployment/shop-web --expires 14d --reason "<why this is needed>" --apply';

t.test('kubectl apply, through deploy/ webhooks, against a running netguard', async (t) => {
  let objects: () => Record<string, unknown>[] = () => [];
  // netguard's caches see what the API server stored, as its informers would.
  const netguard = await startNetguard(t, certs, () => objects());
  const kubectl = apiServer({
    rendered,
    caBundle: certs.caBundle,
    service: () => ({ host: '127.0.0.1', port: netguard.port }),
  });
  objects = kubectl.objects;
  t.teardown(() => kubectl.close());
  const session: string[] = [];
  const run = async (file: string, manifest: string): Promise<KubectlResult> => {
    const result = await kubectl.apply(file, fixture(manifest));
    session.push(transcript(`kubectl apply -f ${file}`, result));
    return result;
  };

  await t.test('namespaces are created and mutated by mutate.netguard.dev (NS001)', async (t) => {
    t.same(await run('namespaces.yaml', 'namespaces.yaml'), {
      lines: ['namespace/prod-shop created', 'namespace/dev-shop created'],
      ok: true,
    });
    // kubectl apply sent an annotations map (last-applied), so NS001 adds keys to it instead of creating it.
    const lastApplied = (name: string): string =>
      `{"apiVersion":"v1","kind":"Namespace","metadata":{"annotations":{},"labels":{"team":"shop"},"name":"${name}"}}\n`;
    const sent = kubectl.reviews.find(
      (r) => isRecord(r['request']) && r['request']['name'] === 'prod-shop',
    );
    t.match(
      sent,
      {
        request: {
          operation: 'CREATE',
          object: {
            metadata: { annotations: { [LAST_APPLIED]: lastApplied('prod-shop') } },
            status: { phase: 'Active' },
          },
        },
      },
      'the Namespace reached /mutate defaulted, with the last-applied annotation',
    );
    const stored = (name: string): unknown => {
      const metadata = kubectl.get('Namespace', undefined, name)?.['metadata'];
      return isRecord(metadata)
        ? { labels: metadata['labels'], annotations: metadata['annotations'] }
        : undefined;
    };
    t.same(
      stored('prod-shop'),
      {
        labels: { team: 'shop', 'kubernetes.io/metadata.name': 'prod-shop' },
        annotations: {
          [LAST_APPLIED]: lastApplied('prod-shop'),
          'netguard.dev/default-deny': 'Ingress,Egress',
          'netguard.dev/allow-dns': 'true',
        },
      },
      "production (enforce): the full baseline is stored beside kubectl's annotation",
    );
    t.same(
      stored('dev-shop'),
      {
        labels: { team: 'shop', 'kubernetes.io/metadata.name': 'dev-shop' },
        annotations: {
          [LAST_APPLIED]: lastApplied('dev-shop'),
          'netguard.dev/baseline': 'observe',
        },
      },
      'development (observe): only marked',
    );
  });

  await t.test(
    'a Deployment without tier in prod-shop is denied with the kubectl text; the Service beside it is created',
    async (t) => {
      t.same(await run('shop-web.yaml', 'shop-web.yaml'), {
        lines: ['service/shop-web created', DENIAL],
        ok: false,
      });
      t.equal(kubectl.get('Deployment', 'prod-shop', 'shop-web'), undefined, 'nothing stored');
    },
  );

  await t.test('the fixed Deployment is admitted', async (t) => {
    t.same(await run('shop-web.yaml', 'shop-web-fixed.yaml'), {
      lines: ['deployment.apps/shop-web created'],
      ok: true,
    });
    t.ok(kubectl.get('Deployment', 'prod-shop', 'shop-web'));
  });

  await t.test(
    'the same first attempt in dev-shop is admitted with a warning (observe)',
    async (t) => {
      t.same(await run('dev-shop-web.yaml', 'dev-shop-web.yaml'), {
        lines: [
          'Warning: netguard POD001: spec.template.metadata.labels: required label "tier" is missing, so NetworkPolicies cannot select these pods by tier',
          'deployment.apps/shop-web created',
        ],
        ok: true,
      });
    },
  );

  await t.test('a kube-system DaemonSet never reaches netguard', async (t) => {
    const before = { decisions: netguard.decisions.length, calls: kubectl.calls.length };
    t.same(await run('kube-system.yaml', 'kube-system.yaml'), {
      lines: ['daemonset.apps/node-agent created'],
      ok: true,
    });
    t.equal(netguard.decisions.length, before.decisions, 'netguard made no decision');
    t.equal(kubectl.calls.length, before.calls, 'the API server called no webhook');
    // The count can move: the same object in a judged namespace is reviewed (and denied: hostNetwork, no labels).
    const judged = await kubectl.create(
      'agent.yaml',
      fixture('kube-system.yaml').replace('namespace: kube-system', 'namespace: prod-shop'),
    );
    t.equal(judged.ok, false);
    t.equal(netguard.decisions.length, before.decisions + 1);
  });

  await t.test(
    'a NetworkPolicy with egress to 0.0.0.0/0 in prod-shop is denied (NP004)',
    async (t) => {
      t.same(
        await run('egress-anywhere.yaml', 'egress-anywhere.yaml'),
        {
          lines: [
            'Error from server (Forbidden): error when creating "egress-anywhere.yaml": admission webhook "validate.netguard.dev" denied the request: ' +
              'NetworkPolicy prod-shop/egress-anywhere violates 1 guardrail (environment production, mode enforce):\n' +
              '- NP004 world-egress at spec.egress[0].to[0].ipBlock.cidr: 0.0.0.0/0 lets these pods reach any address on the internet. ' +
              'Allow only the destinations they need (approved: none configured).\n' +
              'Need more time? netguard exception request -n prod-shop --rule NP004 --target networkpolicy/egress-anywhere --expires 14d --reason "<why this is needed>" --apply',
          ],
          ok: false,
        },
        'DNS is not reported (NP001): the namespace baseline annotation allows it',
      );
    },
  );

  await t.test('what netguard was asked, in order', async (t) => {
    t.same(
      netguard.decisions.map(
        (d) =>
          `${d.webhook} ${d.input.operation} ${d.input.kind} ${d.input.namespace}/${d.input.name} ${d.decision.allowed ? 'allowed' : 'denied'}`,
      ),
      [
        'mutate CREATE Namespace prod-shop/prod-shop allowed',
        // NS002 judges the values a new namespace keeps after mutation (weaker ones are denied).
        'validate CREATE Namespace prod-shop/prod-shop allowed',
        'mutate CREATE Namespace dev-shop/dev-shop allowed',
        'validate CREATE Namespace dev-shop/dev-shop allowed',
        'validate CREATE Deployment prod-shop/shop-web denied',
        'validate CREATE Deployment prod-shop/shop-web allowed',
        'validate CREATE Deployment dev-shop/shop-web allowed',
        'validate CREATE DaemonSet prod-shop/node-agent denied',
        'validate CREATE NetworkPolicy prod-shop/egress-anywhere denied',
      ],
      'the Service was never sent: no webhook rule names services',
    );
  });

  await t.test(
    'an UPDATE carries oldObject: weakening the namespace baseline is denied (NS002)',
    async (t) => {
      const weakened =
        'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod-shop\n  labels: {team: shop}\n  annotations: {netguard.dev/default-deny: Ingress, netguard.dev/allow-dns: "true"}\n';
      const result = await kubectl.replace('namespace.yaml', weakened);
      t.equal(result.ok, false);
      t.match(
        result.lines.at(-1),
        /^Error from server \(Forbidden\): error when replacing "namespace\.yaml": admission webhook "validate\.netguard\.dev" denied the request: Namespace prod-shop violates 1 guardrail[^\n]*\n- NS002 baseline-removal/,
      );
      t.equal(
        netguard.decisions.at(-1)?.input.oldObject !== undefined,
        true,
        'netguard saw the stored object as oldObject',
      );
    },
  );

  await t.test('--dry-run=server gets the same verdict and stores nothing', async (t) => {
    const rename = (text: string): string => text.replaceAll('shop-web', 'shop-api');
    const denied = await kubectl.create('shop-api.yaml', rename(fixture('shop-web.yaml')), {
      dryRun: true,
    });
    t.same(denied.lines, [
      'service/shop-api created (server dry run)',
      DENIAL.replaceAll('shop-web', 'shop-api'),
    ]);
    t.equal(netguard.decisions.at(-1)?.input.dryRun, true, 'netguard saw dryRun: true');
    const admitted = await kubectl.create('shop-api.yaml', rename(fixture('shop-web-fixed.yaml')), {
      dryRun: true,
    });
    t.same(admitted, { lines: ['deployment.apps/shop-api created (server dry run)'], ok: true });
    t.equal(kubectl.get('Deployment', 'prod-shop', 'shop-api'), undefined, 'nothing stored');
    t.equal(kubectl.get('Service', 'prod-shop', 'shop-api'), undefined);
  });

  await t.test('docs/install.md shows this session exactly as kubectl printed it', async (t) => {
    const docs = readFileSync('docs/install.md', 'utf8');
    t.ok(
      docs.includes(`\`\`\`console\n${session.join('\n')}\n\`\`\``),
      'the Verify section is a copy of this session',
    );
  });

  t.comment(session.join('\n'));
});
