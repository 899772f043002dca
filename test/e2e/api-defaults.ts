/**
 * What the API server does to an object before a webhook sees it, for the kinds netguard judges.
 *
 * - `decodeAndDefault`: the request body is decoded into the Go type (fields the type has no
 *   `omitempty` room for come back as written; empty `omitempty` lists and maps, and nulls, are
 *   dropped) and the scheme's defaulters run. Mutating webhooks see this; it runs again after each
 *   patch (mutating/dispatcher.go: `o.GetObjectDefaulter().Default(attr.VersionedObject)`).
 * - `prepareForCreate`: the registry's `BeforeCreate` (apiserver/pkg/registry/rest/create.go):
 *   the strategy's PrepareForCreate, a name for `generateName`, uid and creationTimestamp. Runs
 *   after mutating webhooks and before validation and validating webhooks.
 *
 * Matched against kubernetes/kubernetes pkg/apis/networking/v1/defaults.go
 * (SetDefaults_NetworkPolicy, SetDefaults_NetworkPolicyPort), pkg/apis/core/v1/defaults.go
 * (SetDefaults_Namespace, SetDefaults_NamespaceStatus, SetDefaults_PodSpec, SetDefaults_Container,
 * SetDefaults_ContainerPort, SetDefaults_ReplicationController), pkg/apis/apps/v1/defaults.go,
 * pkg/apis/batch/v1/defaults.go, and the ServiceAccount / DefaultTolerationSeconds admission
 * plugins that run before webhooks. Only what netguard's rules read or a user would notice is
 * modelled; the harness is not a second API server. Not modelled: managedFields,
 * resourceVersion, the service-account token volume, Pod QoS class and priority class lookup.
 */
import { randomUUID } from 'node:crypto';

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const records = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isRecord) : []);

/** A child object, created when absent (Go's non-pointer structs always serialize). */
function child(parent: Json, key: string): Json {
  const value = parent[key];
  if (isRecord(value)) return value;
  const created: Json = {};
  parent[key] = created;
  return created;
}

function setDefault(object: Json, key: string, value: unknown): void {
  if (object[key] === undefined || object[key] === null) object[key] = value;
}

/** Go's `omitempty`: an empty or null list or map decodes to nil and is not sent on. */
function dropEmpty(object: Json, ...keys: string[]): void {
  for (const key of keys) {
    const value = object[key];
    const empty =
      value === null ||
      (Array.isArray(value) && value.length === 0) ||
      (isRecord(value) && Object.keys(value).length === 0);
    if (empty) delete object[key];
  }
}

function defaultSelector(selector: unknown): void {
  if (isRecord(selector)) dropEmpty(selector, 'matchLabels', 'matchExpressions');
}

/** networking/v1: policyTypes from the rules (Ingress always, Egress when egress rules exist); port protocol TCP. */
function defaultNetworkPolicy(policy: Json): void {
  const spec = child(policy, 'spec');
  child(spec, 'podSelector');
  defaultSelector(spec['podSelector']);
  dropEmpty(spec, 'ingress', 'egress', 'policyTypes');
  for (const [direction, peersKey] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    for (const rule of records(spec[direction])) {
      dropEmpty(rule, peersKey, 'ports');
      for (const port of records(rule['ports'])) setDefault(port, 'protocol', 'TCP');
      for (const peer of records(rule[peersKey])) {
        defaultSelector(peer['podSelector']);
        defaultSelector(peer['namespaceSelector']);
        if (isRecord(peer['ipBlock'])) dropEmpty(peer['ipBlock'], 'except');
      }
    }
  }
  if (spec['policyTypes'] === undefined)
    spec['policyTypes'] = spec['egress'] === undefined ? ['Ingress'] : ['Ingress', 'Egress'];
}

const imagePullPolicy = (image: unknown): string => {
  const reference = typeof image === 'string' ? image : '';
  const afterDigest = reference.includes('@')
    ? ''
    : reference.slice(reference.lastIndexOf('/') + 1);
  const tag = afterDigest.includes(':')
    ? afterDigest.slice(afterDigest.indexOf(':') + 1)
    : reference.includes('@')
      ? 'digest'
      : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
};

/**
 * core/v1 SetDefaults_PodSpec, SetDefaults_Container, SetDefaults_ContainerPort; for a Pod (not a
 * template) also SetDefaults_Pod: enableServiceLinks, and host ports under hostNetwork (templates
 * only behind the DefaultHostNetworkHostPortsInPodTemplates gate, off by default).
 */
function defaultPodSpec(spec: Json, isPod: boolean): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  if (isPod) setDefault(spec, 'enableServiceLinks', true);
  for (const container of [...records(spec['initContainers']), ...records(spec['containers'])]) {
    setDefault(container, 'imagePullPolicy', imagePullPolicy(container['image']));
    setDefault(container, 'terminationMessagePath', '/dev/termination-log');
    setDefault(container, 'terminationMessagePolicy', 'File');
    setDefault(container, 'resources', {});
    for (const port of records(container['ports'])) {
      setDefault(port, 'protocol', 'TCP');
      // With hostNetwork the container port is the host port.
      if (isPod && spec['hostNetwork'] === true)
        setDefault(port, 'hostPort', port['containerPort']);
    }
  }
}

function defaultPodTemplate(spec: Json): void {
  const template = child(spec, 'template');
  child(template, 'metadata');
  defaultPodSpec(child(template, 'spec'), false);
}

/** apps/v1 and batch/v1 defaults of the workload's own fields, then its pod template. */
const workloadDefaults: Readonly<Record<string, (spec: Json, object: Json) => void>> = {
  Deployment(spec) {
    setDefault(spec, 'replicas', 1);
    const strategy = child(spec, 'strategy');
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy['type'] === 'RollingUpdate')
      setDefault(strategy, 'rollingUpdate', { maxUnavailable: '25%', maxSurge: '25%' });
    setDefault(spec, 'revisionHistoryLimit', 10);
    setDefault(spec, 'progressDeadlineSeconds', 600);
  },
  StatefulSet(spec) {
    setDefault(spec, 'replicas', 1);
    setDefault(spec, 'podManagementPolicy', 'OrderedReady');
    setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    setDefault(spec, 'revisionHistoryLimit', 10);
    setDefault(spec, 'persistentVolumeClaimRetentionPolicy', {
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
  },
  DaemonSet(spec) {
    setDefault(spec, 'updateStrategy', {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    setDefault(spec, 'revisionHistoryLimit', 10);
  },
  ReplicaSet(spec) {
    setDefault(spec, 'replicas', 1);
  },
  ReplicationController(spec, object) {
    // SetDefaults_ReplicationController: selector and labels from the template's labels when empty.
    const labels = child(child(spec, 'template'), 'metadata')['labels'];
    if (isRecord(labels)) {
      if (!isRecord(spec['selector']) || Object.keys(spec['selector']).length === 0)
        spec['selector'] = { ...labels };
      const metadata = child(object, 'metadata');
      if (!isRecord(metadata['labels']) || Object.keys(metadata['labels']).length === 0)
        metadata['labels'] = { ...labels };
    }
    setDefault(spec, 'replicas', 1);
  },
  Job(spec) {
    if (spec['completions'] === undefined && spec['parallelism'] === undefined) {
      spec['completions'] = 1;
      spec['parallelism'] = 1;
    }
    setDefault(spec, 'parallelism', 1);
    setDefault(spec, 'backoffLimit', 6);
    setDefault(spec, 'completionMode', 'NonIndexed');
    setDefault(spec, 'suspend', false);
  },
  CronJob(spec) {
    setDefault(spec, 'concurrencyPolicy', 'Allow');
    setDefault(spec, 'suspend', false);
    setDefault(spec, 'successfulJobsHistoryLimit', 3);
    setDefault(spec, 'failedJobsHistoryLimit', 1);
    const jobTemplate = child(spec, 'jobTemplate');
    child(jobTemplate, 'metadata');
    const jobSpec = child(jobTemplate, 'spec');
    setDefault(jobSpec, 'backoffLimit', 6);
    setDefault(jobSpec, 'completionMode', 'NonIndexed');
    setDefault(jobSpec, 'suspend', false);
    defaultPodTemplate(jobSpec);
  },
};

/**
 * The decoded and defaulted object, as mutating webhooks receive it (a copy). For Pods this
 * includes the built-in mutating admission plugins that run before webhooks: ServiceAccount
 * (`serviceAccountName: default`) and DefaultTolerationSeconds (not-ready / unreachable, 300 s).
 */
export function decodeAndDefault(kind: string, object: Json): Json {
  const copy = structuredClone(object);
  const metadata = child(copy, 'metadata');
  dropEmpty(metadata, 'labels', 'annotations');
  switch (kind) {
    case 'NetworkPolicy':
      defaultNetworkPolicy(copy);
      break;
    case 'Namespace': {
      // SetDefaults_Namespace: the name label, which nobody can set to anything else.
      const name = metadata['name'];
      if (typeof name === 'string' && name !== '')
        metadata['labels'] = {
          ...(isRecord(metadata['labels']) ? metadata['labels'] : {}),
          'kubernetes.io/metadata.name': name,
        };
      setDefault(child(copy, 'status'), 'phase', 'Active');
      child(copy, 'spec');
      break;
    }
    case 'Pod': {
      const spec = child(copy, 'spec');
      defaultPodSpec(spec, true);
      setDefault(spec, 'serviceAccountName', 'default');
      setDefault(spec, 'serviceAccount', spec['serviceAccountName']);
      setDefault(spec, 'priority', 0);
      const tolerations = records(spec['tolerations']);
      for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
        if (!tolerations.some((t) => t['key'] === key))
          tolerations.push({
            key,
            operator: 'Exists',
            effect: 'NoExecute',
            tolerationSeconds: 300,
          });
      }
      spec['tolerations'] = tolerations;
      break;
    }
    default: {
      const defaults = workloadDefaults[kind];
      if (defaults === undefined) break;
      const spec = child(copy, 'spec');
      defaults(spec, copy);
      if (kind !== 'CronJob') defaultPodTemplate(spec);
    }
  }
  return copy;
}

/** apiserver/pkg/storage/names SimpleNameGenerator: the prefix and 5 characters from this alphabet. */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export function generateName(prefix: string, random: () => number = Math.random): string {
  const suffix = Array.from(
    { length: 5 },
    () => NAME_ALPHABET[Math.floor(random() * NAME_ALPHABET.length)] ?? 'x',
  ).join('');
  return `${prefix.slice(0, 63 - 5)}${suffix}`;
}

/** Kinds whose strategy sets `metadata.generation: 1` on create. */
const GENERATION_ON_CREATE = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
  'CronJob',
  'NetworkPolicy',
]);

/**
 * `BeforeCreate`: PrepareForCreate (Namespace finalizer, Job's generated selector and labels,
 * generation), a name for generateName, uid and creationTimestamp. Returns a copy.
 */
export function prepareForCreate(
  kind: string,
  object: Json,
  now: Date,
  uid: string = randomUUID(),
): Json {
  const copy = structuredClone(object);
  const metadata = child(copy, 'metadata');
  const prefix = metadata['generateName'];
  if (
    (metadata['name'] === undefined || metadata['name'] === '') &&
    typeof prefix === 'string' &&
    prefix !== ''
  )
    metadata['name'] = generateName(prefix);
  metadata['uid'] = uid;
  metadata['creationTimestamp'] = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (GENERATION_ON_CREATE.has(kind)) metadata['generation'] = 1;
  if (kind === 'Namespace') child(copy, 'spec')['finalizers'] = ['kubernetes'];
  if (kind === 'Pod') setDefault(child(copy, 'status'), 'phase', 'Pending');
  if (kind === 'Job') {
    // batch/job strategy generateSelector: the controller-uid selector and template labels.
    const spec = child(copy, 'spec');
    if (spec['manualSelector'] !== true) {
      const name = String(metadata['name'] ?? '');
      const generated = {
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': name,
        'controller-uid': uid,
        'job-name': name,
      };
      const templateMetadata = child(child(spec, 'template'), 'metadata');
      templateMetadata['labels'] = {
        ...(isRecord(templateMetadata['labels']) ? templateMetadata['labels'] : {}),
        ...generated,
      };
      spec['selector'] = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    }
  }
  return copy;
}
