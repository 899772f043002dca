import { parseCidr, type CidrRange } from '../cidr.ts';
import { arrayField, asRecord, field, stringField } from '../object-access.ts';
import { METADATA_NAME_LABEL, type KubeObject } from '../vocabulary.ts';
import { podTemplateOf } from '../model/pod-template.ts';
import { selectorMatches, stringMap, type LabelSelector } from '../labels.ts';
import type { ContainerPort, NamespaceNode, Workload } from './model.ts';
import { PROTOCOLS } from './model.ts';
import { gvkOfObject, judgedKindOf } from '../model/dialects/gvk.ts';
import { isDialectObject } from './dialect-policy.ts';
import { REACH_PRECEDENCE } from '../model/kinds.ts';

/** Which kind a kind-less name means when several share it, as DESIGN.md lists them (model/kinds.ts). */
const KIND_ORDER = REACH_PRECEDENCE;

export function namespaceNode(name: string, object?: KubeObject): NamespaceNode {
  const labels = stringMap(field(object, 'metadata', 'labels'));
  return {
    name,
    labels: { ...labels, [METADATA_NAME_LABEL]: name },
    annotations: stringMap(field(object, 'metadata', 'annotations')),
  };
}

function containerPorts(podSpec: unknown): ContainerPort[] {
  const containers = [
    ...arrayField(podSpec, 'containers'),
    ...arrayField(podSpec, 'initContainers'),
  ];
  return containers.flatMap((container) =>
    arrayField(container, 'ports').flatMap((entry): ContainerPort[] => {
      const port = field(entry, 'containerPort');
      const protocolText = field(entry, 'protocol') ?? 'TCP';
      const protocol = PROTOCOLS.find((known) => known === protocolText);
      if (typeof port !== 'number' || !Number.isInteger(port) || protocol === undefined) return [];
      const name = field(entry, 'name');
      return [{ name: typeof name === 'string' && name !== '' ? name : undefined, port, protocol }];
    }),
  );
}

function podAddresses(pod: KubeObject): CidrRange[] {
  const texts = [
    stringField(pod, 'status', 'podIP'),
    ...arrayField(pod, 'status', 'podIPs').map((entry) => stringField(entry, 'ip')),
  ];
  const ranges = new Map<string, CidrRange>();
  for (const text of texts) {
    if (text === '') continue;
    const range = parseCidr(text.includes(':') ? `${text}/128` : `${text}/32`);
    if (range !== undefined) ranges.set(`${range.family}:${range.first}`, range);
  }
  return [...ranges.values()];
}

const hasController = (object: KubeObject): boolean =>
  arrayField(object, 'metadata', 'ownerReferences').some(
    (ref) => field(ref, 'controller') === true,
  );

function workloadSelector(object: KubeObject): LabelSelector | undefined {
  const selector = asRecord(field(object, 'spec', 'selector'));
  if (selector === undefined) return undefined;
  // ReplicationController writes its selector as a plain map.
  if (object['kind'] === 'ReplicationController') return { matchLabels: stringMap(selector) };
  return { matchLabels: stringMap(field(selector, 'matchLabels')), matchExpressions: [] };
}

export interface WorldObjects {
  readonly namespaces: NamespaceNode[];
  readonly workloads: Workload[];
  readonly policyObjects: KubeObject[];
  /** Policies of other dialects (Cilium, Calico, ClusterNetworkPolicy) with their CIDR groups and network sets. */
  readonly dialectObjects: KubeObject[];
}

/**
 * Namespaces, workloads and NetworkPolicies from Kubernetes objects (manifests or a cluster list).
 * A Pod or ReplicaSet/Job with a controller owner is part of its workload: its IPs join the
 * workload whose selector matches it. A namespace that objects name but no Namespace document
 * describes exists with only its name label.
 */
export function worldFromObjects(
  objects: readonly KubeObject[],
  defaultNamespace = 'default',
): WorldObjects {
  const namespaces = new Map<string, NamespaceNode>();
  const workloads = new Map<string, Workload>();
  const selectors: { workload: Workload; selector: LabelSelector; addresses: CidrRange[] }[] = [];
  const ownedPods: KubeObject[] = [];
  const policyObjects: KubeObject[] = [];
  const dialectObjects: KubeObject[] = [];
  for (const object of objects) {
    const kind = String(object['kind']);
    const name = stringField(object, 'metadata', 'name');
    if (isDialectObject(object)) {
      dialectObjects.push(object);
      continue;
    }
    if (kind === 'Namespace') {
      namespaces.set(name, namespaceNode(name, object));
      continue;
    }
    const namespace = stringField(object, 'metadata', 'namespace') || defaultNamespace;
    if (!namespaces.has(namespace)) namespaces.set(namespace, namespaceNode(namespace));
    if (kind === 'NetworkPolicy') {
      // By group and version too: a Calico NetworkPolicy is another dialect (docs/dialects.md).
      if (judgedKindOf(gvkOfObject(object)) === 'NetworkPolicy') policyObjects.push(object);
      continue;
    }
    const template = podTemplateOf(kind, object);
    if (kind === 'Pod' && hasController(object)) {
      ownedPods.push(object);
      continue;
    }
    if (template === undefined || (kind !== 'Pod' && hasController(object))) continue;
    const addresses = kind === 'Pod' ? podAddresses(object) : [];
    const workload: Workload = {
      kind: 'workload',
      id: `${namespace}/${name}`,
      namespace,
      name,
      workloadKind: kind,
      labels: template.labels,
      ports: containerPorts(template.spec),
      addresses,
      hostNetwork: field(template.spec, 'hostNetwork') === true,
    };
    const same = workloads.get(workload.id);
    // One name, two kinds (a Deployment and a bare Pod `web`): the earlier kind of KIND_ORDER wins.
    if (same !== undefined && KIND_ORDER.indexOf(same.workloadKind) <= KIND_ORDER.indexOf(kind))
      continue;
    workloads.set(workload.id, workload);
    const selector = kind === 'Pod' ? undefined : workloadSelector(object);
    if (selector !== undefined) selectors.push({ workload, selector, addresses });
  }
  // Owned pods lend their IPs to the workload whose selector matches them, looked up per namespace.
  const selectorsIn = new Map<string, typeof selectors>();
  for (const entry of selectors) {
    if (workloads.get(entry.workload.id) !== entry.workload) continue; // shadowed by another kind
    selectorsIn.set(entry.workload.namespace, [
      ...(selectorsIn.get(entry.workload.namespace) ?? []),
      entry,
    ]);
  }
  for (const pod of ownedPods) {
    const namespace = stringField(pod, 'metadata', 'namespace') || defaultNamespace;
    const labels = stringMap(field(pod, 'metadata', 'labels'));
    const owner = selectorsIn
      .get(namespace)
      ?.find((entry) => selectorMatches(entry.selector, labels));
    owner?.addresses.push(...podAddresses(pod));
  }
  return {
    namespaces: [...namespaces.values()],
    workloads: [...workloads.values()],
    policyObjects,
    dialectObjects,
  };
}
