import fc from 'fast-check';
import t from 'tap';
import { auditWithDecisions } from '../../src/audit/scan.ts';
import { NO_WAIVERS } from '../../src/engine/cluster-view.ts';
import { pruneJson } from '../../src/kube/json-prune.ts';
import { droppedBeforeParse, slimWorkload } from '../../src/kube/slim.ts';
import { POD_KINDS, type KubeObject, type PodKind } from '../../src/vocabulary.ts';
import { shippedPolicy } from '../helpers/context.ts';
import '../helpers/property.ts';

const CNI = { enforcing: true, found: [], warning: undefined, fqdnEgress: false };
const NOW = new Date('2026-11-22T12:00:00Z');
const NAMESPACES = ['prod-shop', 'staging-shop', 'dev-shop'].map((name) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
}));
const API_VERSION: Readonly<Record<PodKind, string>> = {
  Pod: 'v1',
  ReplicationController: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
};

const labels = fc.dictionary(
  fc.constantFrom('app', 'app.kubernetes.io/name', 'tier', 'team', 'pod-template-hash'),
  fc.constantFrom('web', 'frontend', 'backend', 'data', 'nope', ''),
  { maxKeys: 4 },
);
const container = fc.record({
  name: fc.constantFrom('app', 'sidecar'),
  image: fc.constant('registry.example/app:1'),
  env: fc.array(fc.record({ name: fc.constant('PAD'), value: fc.string({ maxLength: 40 }) }), {
    maxLength: 3,
  }),
  ports: fc.array(
    fc.record({ containerPort: fc.integer({ min: 1, max: 65535 }), protocol: fc.constant('TCP') }),
    { maxLength: 2 },
  ),
});
const podSpec = fc.record(
  {
    hostNetwork: fc.boolean(),
    containers: fc.array(container, { minLength: 1, maxLength: 2 }),
    initContainers: fc.array(container, { maxLength: 1 }),
    serviceAccountName: fc.constant('default'),
    volumes: fc.constant([{ name: 'data', emptyDir: {} }]),
  },
  { requiredKeys: ['containers'] },
);

/** A Pod or workload of any kind, with what real ones carry beside what rules read. */
const workload = fc
  .record({
    kind: fc.constantFrom(...POD_KINDS),
    namespace: fc.constantFrom('prod-shop', 'staging-shop', 'dev-shop'),
    name: fc.constantFrom('web', 'api', 'batch'),
    labels,
    templateLabels: labels,
    spec: podSpec,
    annotations: fc.dictionary(fc.constantFrom('note', 'netguard.dev/x'), fc.string(), {
      maxKeys: 2,
    }),
  })
  .map(({ kind, namespace, name, labels, templateLabels, spec, annotations }): KubeObject => {
    const metadata = {
      name,
      namespace,
      uid: `${kind}-${name}`,
      labels,
      annotations,
      managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
    };
    const template = { metadata: { labels: templateLabels, annotations }, spec };
    const body =
      kind === 'Pod'
        ? {
            metadata: { ...metadata, labels: templateLabels },
            spec,
            status: { podIP: '10.0.0.9', phase: 'Running', conditions: [{ type: 'Ready' }] },
          }
        : kind === 'CronJob'
          ? {
              metadata,
              spec: { schedule: '@daily', jobTemplate: { spec: { template, backoffLimit: 2 } } },
            }
          : {
              metadata,
              spec: { replicas: 2, selector: { matchLabels: templateLabels }, template },
            };
    return { apiVersion: API_VERSION[kind], kind, ...body };
  });

const audit = (objects: KubeObject[]) => {
  const { report, judged } = auditWithDecisions({
    namespaces: NAMESPACES,
    objects,
    policy: shippedPolicy(),
    waivers: NO_WAIVERS,
    now: NOW,
    cni: CNI,
  });
  return { report, judged: judged.map((entry) => entry.decision) };
};

/** A listed workload as the audit keeps it: pruned as text, parsed, then slimmed. */
function asListed(object: KubeObject): KubeObject {
  const kind = object['kind'] as PodKind;
  const text = Buffer.from(JSON.stringify(object));
  const parsed = JSON.parse(pruneJson(text, 0, text.length, droppedBeforeParse(kind)));
  return slimWorkload(parsed, kind);
}

t.test(
  'a workload pruned and slimmed as listed gets the same audit as the whole one',
  async (t) => {
    fc.assert(
      fc.property(fc.array(workload, { minLength: 1, maxLength: 5 }), (objects) => {
        t.same(audit(objects.map(asListed)), audit(objects));
        t.same(
          objects.map(asListed),
          objects.map((object) => slimWorkload(object, object['kind'] as PodKind)),
          'pruning before parsing drops only what slimming drops',
        );
      }),
    );
  },
);

t.test('what a slimmed Job keeps does not grow with its env, command or annotations', async (t) => {
  const pad = 'x'.repeat(400_000);
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'big',
      namespace: 'prod-shop',
      uid: 'u1',
      labels: { app: 'big' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': pad },
      managedFields: [{ manager: 'kubectl', fieldsV1: { pad } }],
    },
    spec: {
      suspend: true,
      template: {
        metadata: { labels: { app: 'big', tier: 'backend' } },
        spec: {
          hostNetwork: true,
          containers: [
            {
              name: 'run',
              command: [pad],
              env: [{ name: 'PAD', value: pad }],
              ports: [{ containerPort: 8080 }],
            },
          ],
        },
      },
    },
  };
  const slim = slimWorkload(job, 'Job');
  t.ok(JSON.stringify(slim).length < 600, 'a few hundred bytes are kept of 1.2 MB');
  t.same(slim, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'big', namespace: 'prod-shop', uid: 'u1', labels: { app: 'big' } },
    spec: {
      suspend: true,
      template: {
        metadata: { labels: { app: 'big', tier: 'backend' } },
        spec: {
          hostNetwork: true,
          containers: [{ name: 'run', ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  });
});
