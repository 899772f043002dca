import { pino } from 'pino';
import t from 'tap';
import { startClusterCache } from '../../src/kube/cluster-cache.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { until } from '../helpers/until.ts';

const NAMESPACES = '/api/v1/namespaces';
const POLICIES = '/apis/networking.k8s.io/v1/networkpolicies';
const JOBS = '/apis/batch/v1/jobs';

/** What kubectl apply and server-side apply leave on every object: often larger than the spec. */
/** The fake API server stamps these; the comparison leaves them out. */
function withoutStamps(object: Record<string, unknown> | undefined) {
  const { resourceVersion, creationTimestamp, ...metadata } = (object?.['metadata'] ??
    {}) as Record<string, unknown>;
  return { ...object, metadata };
}

const bookkeeping = (size: number) => ({
  managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { pad: 'f'.repeat(size) } }],
  annotations: {
    'kubectl.kubernetes.io/last-applied-configuration': 'a'.repeat(size),
    'netguard.dev/default-deny': 'Ingress,Egress',
  },
});

t.test(
  'caches keep what rules read and drop managedFields and foreign annotations as objects arrive, listed or watched',
  async (t) => {
    const api = await startFakeKubeApi(t);
    api.seed(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', uid: 'ns-1', labels: { env: 'prod' }, ...bookkeeping(100_000) },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    api.seed(POLICIES, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'dns', namespace: 'shop', uid: 'np-1', ...bookkeeping(100_000) },
      spec: { podSelector: {}, policyTypes: ['Egress'] },
    });
    api.seed(JOBS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'big', namespace: 'shop', uid: 'job-1', ...bookkeeping(1000) },
      spec: {
        suspend: true,
        template: { metadata: { annotations: { pad: 'j'.repeat(1_200_000) } } },
      },
    });
    const cluster = startClusterCache({
      kubeConfig: api.kubeConfig(),
      logger: pino({ level: 'silent' }),
    });
    t.teardown(() => cluster.stop());
    await until(() => cluster.notReady().length === 0, 'first sync');
    t.same(
      withoutStamps(cluster.namespaces.get('shop')),
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'shop',
          uid: 'ns-1',
          labels: { env: 'prod' },
          annotations: { 'netguard.dev/default-deny': 'Ingress,Egress' },
        },
      },
      'a listed Namespace: identity, labels and netguard annotations only',
    );
    t.same(
      withoutStamps(cluster.networkPolicies.get('dns', 'shop')),
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: {
          name: 'dns',
          namespace: 'shop',
          uid: 'np-1',
          annotations: { 'netguard.dev/default-deny': 'Ingress,Egress' },
        },
        spec: { podSelector: {}, policyTypes: ['Egress'] },
      },
      'a listed NetworkPolicy keeps its spec',
    );

    await api.watching(POLICIES);
    api.emit(POLICIES, 'MODIFIED', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: 'dns',
        namespace: 'shop',
        uid: 'np-1',
        deletionTimestamp: '2026-01-01T00:00:00Z',
        ...bookkeeping(50_000),
      },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    });
    await until(
      () =>
        cluster.networkPolicies.get('dns', 'shop')?.metadata?.['deletionTimestamp'] !== undefined,
      'the watched update',
    );
    const watched = cluster.networkPolicies.get('dns', 'shop');
    t.notOk(watched?.metadata && 'managedFields' in watched.metadata, 'no managedFields');
    t.same(watched?.metadata?.['annotations'], { 'netguard.dev/default-deny': 'Ingress,Egress' });
    t.equal(watched?.metadata?.['deletionTimestamp'], '2026-01-01T00:00:00Z');
    t.same(watched?.['spec'], { podSelector: {}, policyTypes: ['Ingress'] }, 'the new spec');
  },
);
