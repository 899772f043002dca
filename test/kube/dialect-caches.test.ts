import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { startWorld } from '../../src/live-world.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { until } from '../helpers/until.ts';

const NETWORK_SETS = '/apis/projectcalico.org/v3/networksets';
const CIDR_GROUPS = '/apis/cilium.io/v2alpha1/ciliumcidrgroups';

t.test(
  'dialect sets are cut to labels and nets as they arrive; an unserved kind is not known and holds no readiness back',
  async (t) => {
    const api = await startFakeKubeApi(t);
    api.seed('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'prod-shop' },
    });
    api.seed(NETWORK_SETS, {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkSet',
      metadata: {
        name: 'partners',
        namespace: 'prod-shop',
        labels: { role: 'partner' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(100_000) },
        managedFields: [{ manager: 'kubectl', fieldsV1: { pad: 'y'.repeat(100_000) } }],
      },
      spec: { nets: ['160.79.104.0/24', 7], allowedEgressDomains: ['x'.repeat(100_000)] },
      status: { pad: 'z'.repeat(100_000) },
    });
    // This cluster does not serve CiliumCIDRGroups (no CRD): every probe is a 404.
    api.failNext('GET', /ciliumcidrgroups/, 404, 'NotFound', 1_000);
    const dir = mkdtempSync(join(tmpdir(), 'netguard-dialect-caches-'));
    writeFileSync(join(dir, 'exceptions.yaml'), '');
    const world = startWorld({
      config: 'test/fixtures/policies/lab.yaml',
      exceptions: join(dir, 'exceptions.yaml'),
      logger: pino({ level: 'silent' }),
      kubeConfig: api.kubeConfig(),
    });
    t.teardown(() => world.close());
    const cluster = () => world.context(new Date()).cluster;
    await until(
      () =>
        world.notReady().length === 0 &&
        cluster().dialectObjects?.('NetworkSet', 'prod-shop')?.length === 1,
      'the NetworkSet cache synced',
    );
    t.same(world.notReady(), [], 'ready without any CIDR group cache');
    t.same(
      cluster().dialectObjects?.('NetworkSet', 'prod-shop'),
      [
        {
          apiVersion: 'projectcalico.org/v3',
          kind: 'NetworkSet',
          metadata: {
            name: 'partners',
            namespace: 'prod-shop',
            labels: { role: 'partner' },
            uid: api.get(NETWORK_SETS, 'prod-shop', 'partners')?.['metadata']?.['uid'],
            resourceVersion: api.get(NETWORK_SETS, 'prod-shop', 'partners')?.['metadata']?.[
              'resourceVersion'
            ],
            creationTimestamp: api.get(NETWORK_SETS, 'prod-shop', 'partners')?.['metadata']?.[
              'creationTimestamp'
            ],
          },
          spec: { nets: ['160.79.104.0/24'] },
        },
      ],
      'labels and nets only: no annotation, managedFields, status or other spec field is held',
    );
    t.equal(
      cluster().dialectObjects?.('CiliumCIDRGroup'),
      undefined,
      'an unserved kind is not known',
    );
    t.same(
      cluster().dialectObjects?.('NetworkSet', 'other'),
      [],
      'a served kind with nothing in a namespace is known to be empty',
    );
    t.ok(
      api.requests.some((request) => request.path === CIDR_GROUPS),
      'the CIDR group collection was asked for',
    );
    t.notOk(
      api.requests.some(
        (request) => request.path === CIDR_GROUPS && request.query.get('watch') !== null,
      ),
      'and never watched',
    );
  },
);
