import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { startWorld } from '../../src/live-world.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { until } from '../helpers/until.ts';
import { RANGE_SOURCES } from '../../src/cluster-ranges.ts';
import { collectionPath, DIALECT_COLLECTIONS } from '../../src/kube/dialect-caches.ts';

const NAMESPACES = '/api/v1/namespaces';
const POLICIES = '/apis/networking.k8s.io/v1/networkpolicies';
const EXCEPTIONS = '/apis/netguard.dev/v1alpha1/guardrailexceptions';
/** Every workload an owner cache used to keep, by group+version+resource. */
const WORKLOADS: Record<string, { apiVersion: string; kind: string }> = {
  '/apis/apps/v1/replicasets': { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  '/apis/apps/v1/statefulsets': { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  '/apis/apps/v1/daemonsets': { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  '/apis/apps/v1/deployments': { apiVersion: 'apps/v1', kind: 'Deployment' },
  '/apis/batch/v1/jobs': { apiVersion: 'batch/v1', kind: 'Job' },
  '/apis/batch/v1/cronjobs': { apiVersion: 'batch/v1', kind: 'CronJob' },
  '/api/v1/replicationcontrollers': { apiVersion: 'v1', kind: 'ReplicationController' },
  '/api/v1/pods': { apiVersion: 'v1', kind: 'Pod' },
};

t.test(
  "the webhook's cluster caches list and watch Namespaces, NetworkPolicies, GuardrailExceptions and the dialect policies and sets only: no Job or ReplicaSet is ever held",
  async (t) => {
    const api = await startFakeKubeApi(t);
    api.seed(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', labels: { env: 'prod' } },
    });
    api.seed(POLICIES, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'deny', namespace: 'shop' },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    });
    // A tenant's big workloads: what the owner caches used to keep whole.
    for (const [collection, type] of Object.entries(WORKLOADS))
      api.seed(collection, {
        ...type,
        metadata: {
          name: 'big',
          namespace: 'shop',
          annotations: { pad: 'x'.repeat(200_000) },
          managedFields: [{ manager: 'kubectl', fieldsV1: { pad: 'y'.repeat(200_000) } }],
        },
        spec: { suspend: true },
      });
    const dir = mkdtempSync(join(tmpdir(), 'netguard-no-owners-'));
    writeFileSync(join(dir, 'exceptions.yaml'), '');
    const world = startWorld({
      config: 'policies/guardrails.yaml',
      exceptions: join(dir, 'exceptions.yaml'),
      logger: pino({ level: 'silent' }),
      kubeConfig: api.kubeConfig(),
    });
    t.teardown(() => world.close());
    await until(() => world.notReady().length === 0, 'the caches synced');
    await Promise.all([api.watching(NAMESPACES), api.watching(POLICIES)]);

    const workloadRequests = api.requests.filter((request) =>
      Object.keys(WORKLOADS).some((collection) =>
        request.path.endsWith(collection.split('/').at(-1) ?? ''),
      ),
    );
    t.same(
      workloadRequests.map((request) => `${request.method} ${request.path}`),
      [],
      'no workload collection is listed or watched',
    );
    // Besides the three caches and the dialect policies and sets (docs/dialects.md), only
    // `clusterCIDRs: auto`'s range sources are read (their CIDRs).
    const rangeSources = new Set(RANGE_SOURCES.map((source) => source.path));
    const followed = new Set(
      api.requests.map((request) => request.path).filter((path) => !rangeSources.has(path)),
    );
    t.same(
      [...followed].sort(),
      [NAMESPACES, EXCEPTIONS, POLICIES, ...DIALECT_COLLECTIONS.map(collectionPath)].sort(),
      'the three collections, the dialect policies and sets, and the cluster-range sources, nothing else',
    );
    const caches = world.caches;
    if (caches === undefined) throw new Error('no caches with a kubeconfig');
    t.same(
      [...caches.namespaces.list(), ...caches.networkPolicies.list()].map(
        (object) => `${object['apiVersion']} ${object['kind']} ${object.metadata?.['name']}`,
      ),
      ['v1 Namespace shop', 'networking.k8s.io/v1 NetworkPolicy deny'],
      'what the caches hold: the Namespace and the NetworkPolicy, by group+version+kind',
    );

    // A Job arriving later changes nothing either: no watch is open on it.
    api.emit('/apis/batch/v1/jobs', 'ADDED', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'later', namespace: 'shop' },
      spec: { suspend: true },
    });
    api.emit(NAMESPACES, 'MODIFIED', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', labels: { env: 'staging' } },
    });
    await until(
      () =>
        caches.namespaces.get('shop')?.metadata?.['labels'] !== undefined &&
        (caches.namespaces.get('shop')?.metadata?.['labels'] as Record<string, string>)['env'] ===
          'staging',
      'the namespace change followed',
    );
    t.notOk(
      api.requests.some((request) => request.path.includes('/jobs')),
      'still no request for Jobs after one was added',
    );
  },
);
