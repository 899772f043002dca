/**
 * CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io/v2) compiled into the one
 * meaning of a policy (DESIGN "Policy dialects"). Where Cilium reads differently from a Kubernetes
 * NetworkPolicy, the Cilium reading is kept: an empty rule allows nothing; a rule with ports and no
 * peer allows every peer on them; entities name the internet or every namespace; deny rules are
 * kept as `deny` grants and never subtracted.
 */
import { arrayField, asRecord, field, stringField } from '../../object-access.ts';
import { selectsEveryNamespace } from '../../semantics/selectors.ts';
import { unionAll, type AddressSet } from '../../semantics/addresses.ts';
import type { PolicyPort } from '../../semantics/ports.ts';
import { CILIUM_CIDR_GROUP, CILIUM_CLUSTERWIDE_POLICY, type KubeObject } from '../../vocabulary.ts';
import { EVERY_LABEL_SET, labelSetOf } from '../label-set.ts';
import {
  setKey,
  type DirectionMeaning,
  type Grant,
  type NamespaceSet,
  type Peer,
  type PodSet,
  type PolicyMeaning,
  type ReservedEntity,
} from '../policy-meaning.ts';
import {
  blockPeer,
  familyPeer,
  internetPeer,
  portEntries,
  portsOf,
  protocolsOf,
  requirementsOf,
  selectorOf,
  strings,
  type Requirement,
} from './read.ts';

/** A CiliumCIDRGroup as the cluster holds it now: its name, labels and addresses. */
export interface CidrGroup {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly addresses: AddressSet;
}

export interface CiliumLookups {
  /** Undefined where netguard sees no CIDR groups (no cache of them): a reference is then every address. */
  readonly cidrGroups: readonly CidrGroup[] | undefined;
}

const NAMESPACE_KEY = 'io.kubernetes.pod.namespace';
const NAMESPACE_LABELS = 'io.cilium.k8s.namespace.labels.';

/** Cilium label keys carry a source prefix (`k8s:`, `any:`); the meaning is the same without it. */
const bareKey = (key: string): string => key.replace(/^(k8s|any):/, '');

/** An endpoint selector split into the namespaces it names and the pod labels it requires. */
function podSetOf(selector: unknown, own: string | undefined): PodSet {
  const pods: Requirement[] = [];
  const namespaceLabels: Requirement[] = [];
  let names: Requirement | undefined;
  for (const requirement of requirementsOf(selector)) {
    const key = bareKey(requirement.key);
    if (key === NAMESPACE_KEY) names = { ...requirement, key };
    else if (key.startsWith(NAMESPACE_LABELS))
      namespaceLabels.push({ ...requirement, key: key.slice(NAMESPACE_LABELS.length) });
    else pods.push({ ...requirement, key });
  }
  return {
    namespaces: namespacesOf(names, namespaceLabels, own),
    pods: labelSetOf(selectorOf(pods)),
  };
}

/**
 * A selector that names no namespace stays in the policy's own (namespaced) or spans every one
 * (clusterwide); `Exists`/`NotIn` on the namespace name, or namespace labels that require nothing
 * positive, are every namespace.
 */
function namespacesOf(
  names: Requirement | undefined,
  labels: readonly Requirement[],
  own: string | undefined,
): NamespaceSet {
  if (names?.operator === 'In') return { kind: 'named', names: [...names.values].sort() };
  if (names !== undefined) return { kind: 'every' };
  if (labels.length > 0) {
    const selector = {
      matchLabels: {},
      matchExpressions: labels.map((r) => ({ ...r, values: [...r.values] })),
    };
    if (selectsEveryNamespace(selector)) return { kind: 'every' };
    return { kind: 'labelled', labels: labelSetOf(selectorOf(labels)) };
  }
  return own === undefined ? { kind: 'every' } : { kind: 'named', names: [own] };
}

const everyNamespace = (path: string): Peer => ({
  kind: 'pods',
  path,
  pods: { namespaces: { kind: 'every' }, pods: EVERY_LABEL_SET },
});

/** The reserved entities an entity names: `cluster` names the nodes and the API server too. */
function reservedEntities(entity: string): ReservedEntity[] {
  switch (entity) {
    case 'host':
    case 'remote-node':
    case 'kube-apiserver':
      return [entity];
    case 'cluster':
      return ['host', 'remote-node', 'kube-apiserver'];
    default:
      return [];
  }
}

/** Addresses netguard cannot see (a Service's endpoints, a cloud group): every address, unseen. */
const unseenPeer = (path: string, text: string): Peer => ({
  ...internetPeer(path, text),
  unseen: true,
});

/** An entity: `world*` is the internet, `all` every peer, `cluster` every namespace; others name nodes. */
function entityPeer(entity: string, path: string): Peer | undefined {
  switch (entity) {
    case 'world':
      return internetPeer(path, 'entity world');
    case 'world-ipv4':
      return familyPeer(path, 'ipv4', 'entity world-ipv4');
    case 'world-ipv6':
      return familyPeer(path, 'ipv6', 'entity world-ipv6');
    case 'all':
      return { kind: 'any', path };
    case 'cluster':
      return everyNamespace(path);
    default:
      // host, remote-node, kube-apiserver, health, init, ingress, unmanaged, none: the cluster's own nodes.
      return undefined;
  }
}

/** The CIDR groups a `cidrGroupRef` or `cidrGroupSelector` names, among those the cluster holds. */
function cidrGroupsOf(entry: unknown, cidrGroups: readonly CidrGroup[]): readonly CidrGroup[] {
  const ref = stringField(entry, 'cidrGroupRef');
  if (ref !== '') return cidrGroups.filter((group) => group.name === ref);
  const wanted = labelSetOf(selectorOf(requirementsOf(field(entry, 'cidrGroupSelector'))));
  return cidrGroups.filter((group) =>
    wanted.requirements.every((r) => {
      const value = group.labels[r.key];
      if (r.operator === 'Exists') return value !== undefined;
      if (r.operator === 'DoesNotExist') return value === undefined;
      if (r.operator === 'In') return value !== undefined && r.values.includes(value);
      return value === undefined || !r.values.includes(value);
    }),
  );
}

/** The L3 peers of one rule, each at its own path (`spec.egress[0].toEntities[1]`). */
function peersOf(
  rule: unknown,
  path: string,
  prefix: 'from' | 'to',
  own: string | undefined,
  lookups: CiliumLookups,
): { peers: Peer[]; named: boolean; entities: ReservedEntity[] } {
  const peers: Peer[] = [];
  const entities = new Set<ReservedEntity>();
  let named = false;
  const each = (name: string, read: (item: unknown, at: string) => Peer | undefined): void => {
    const list = field(rule, `${prefix}${name}`);
    if (!Array.isArray(list)) return;
    named = true;
    list.forEach((item, index) => {
      const peer = read(item, `${path}.${prefix}${name}[${index}]`);
      if (peer !== undefined) peers.push(peer);
    });
  };
  each('Endpoints', (item, at) => ({ kind: 'pods', path: at, pods: podSetOf(item, own) }));
  each('CIDR', (item, at) => (typeof item === 'string' ? blockPeer(at, item, []) : undefined));
  each('CIDRSet', (item, at) => {
    const cidr = stringField(item, 'cidr');
    if (cidr !== '') return blockPeer(at, cidr, strings(field(item, 'except')));
    const ref = stringField(item, 'cidrGroupRef');
    const named = ref !== '' ? `CIDR group ${ref}` : 'the CIDR groups its selector matches';
    // A group netguard does not hold (not cached, or offline) could hold any address: judged as
    // every one (conservative), and matched by none in `reach`.
    const unseen = `${named} (not in netguard's cache of CIDR groups, so counted as every address)`;
    if (lookups.cidrGroups === undefined) return unseenPeer(at, unseen);
    if (ref !== '' && !lookups.cidrGroups.some((group) => group.name === ref))
      return unseenPeer(at, unseen);
    const groups = cidrGroupsOf(item, lookups.cidrGroups);
    return {
      kind: 'addresses',
      path: at,
      addresses: unionAll(groups.map((group) => group.addresses)),
      text: named,
      sources: groups.map((group) => setKey(CILIUM_CIDR_GROUP, undefined, group.name)),
    };
  });
  each('Entities', (item, at) => {
    if (typeof item !== 'string') return undefined;
    for (const entity of reservedEntities(item)) entities.add(entity);
    return entityPeer(item, at);
  });
  // Cloud security groups hold addresses netguard cannot see: judged as the internet.
  each('Groups', (_item, at) => unseenPeer(at, 'a cloud security group'));
  if (prefix === 'to') {
    // A Service may front any address (an external endpoint): the internet, on the rule's ports.
    each('Services', (_item, at) => unseenPeer(at, 'a Service, which may front any address'));
    each('FQDNs', (item, at) => {
      const pattern = stringField(item, 'matchName') || stringField(item, 'matchPattern');
      return pattern === '' ? undefined : { kind: 'names', path: at, patterns: [pattern] };
    });
  }
  // fromNodes/toNodes name the cluster's own nodes; fromRequires/toRequires only narrow.
  if (Array.isArray(field(rule, `${prefix}Nodes`))) named = true;
  return { peers, named, entities: [...entities].sort() };
}

/** `toPorts`: every entry's ports together; port 0 or none, or protocol ANY, is every port. */
function portsOfRule(rule: unknown): { ports: Grant['ports']; written: boolean } {
  const toPorts = field(rule, 'toPorts');
  if (!Array.isArray(toPorts)) return { ports: portsOf([]), written: false };
  const entries: PolicyPort[] = [];
  for (const entry of toPorts) {
    const ports = arrayField(entry, 'ports');
    if (ports.length === 0) return { ports: portsOf([]), written: true };
    for (const port of ports)
      entries.push(
        ...portEntries(
          protocolsOf(field(port, 'protocol')),
          field(port, 'port'),
          field(port, 'endPort'),
        ),
      );
  }
  return { ports: portsOf(entries), written: true };
}

function grantOf(
  rule: unknown,
  path: string,
  prefix: 'from' | 'to',
  action: Grant['action'],
  own: string | undefined,
  lookups: CiliumLookups,
): Grant {
  const { peers, named, entities } = peersOf(rule, path, prefix, own, lookups);
  const { ports, written } = portsOfRule(rule);
  const dns = arrayField(rule, 'toPorts').some(
    (entry) => arrayField(entry, 'rules', 'dns').length > 0,
  )
    ? ({ dnsVisible: true } as const)
    : {};
  // Ports with no L3 peer: every peer on those ports. `{}`: nothing (it only turns on default deny).
  if (!named && written)
    return { path, action, peers: [{ kind: 'any', path: `${path}.toPorts` }], ports, ...dns };
  return { path, action, peers, ports, ...(entities.length > 0 ? { entities } : {}), ...dns };
}

function directionOf(
  spec: unknown,
  at: string,
  direction: 'ingress' | 'egress',
  own: string | undefined,
  lookups: CiliumLookups,
): DirectionMeaning | undefined {
  const prefix = direction === 'ingress' ? 'from' : 'to';
  const allow = field(spec, direction);
  const deny = field(spec, `${direction}Deny`);
  const defaultDeny = field(spec, 'enableDefaultDeny', direction);
  if (!Array.isArray(allow) && !Array.isArray(deny) && defaultDeny !== true) return undefined;
  const grants: Grant[] = [];
  if (Array.isArray(allow))
    allow.forEach((rule, index) => {
      grants.push(grantOf(rule, `${at}.${direction}[${index}]`, prefix, 'allow', own, lookups));
    });
  if (Array.isArray(deny))
    deny.forEach((rule, index) => {
      grants.push(grantOf(rule, `${at}.${direction}Deny[${index}]`, prefix, 'deny', own, lookups));
    });
  // Cilium isolates a direction only where the policy has rules in it, unless enableDefaultDeny
  // says false (its rules then only add allows).
  const ruled =
    (Array.isArray(allow) && allow.length > 0) || (Array.isArray(deny) && deny.length > 0);
  return { grants, isolates: ruled && defaultDeny !== false };
}

/**
 * Every rule block of a Cilium policy (`spec`, then each of `specs`) as one meaning. A namespaced
 * policy's empty endpoint selector is every pod of its namespace; a clusterwide one's, every pod.
 */
export function ciliumMeanings(
  object: KubeObject,
  judgedKind: string,
  version: string,
  lookups: CiliumLookups,
): PolicyMeaning[] {
  const clusterwide = judgedKind === CILIUM_CLUSTERWIDE_POLICY;
  const namespace = clusterwide ? undefined : stringField(object, 'metadata', 'namespace');
  const blocks: { spec: unknown; at: string }[] = [];
  if (asRecord(field(object, 'spec')) !== undefined)
    blocks.push({ spec: field(object, 'spec'), at: 'spec' });
  arrayField(object, 'specs').forEach((spec, index) => {
    blocks.push({ spec, at: `specs[${index}]` });
  });
  return blocks.map(({ spec, at }) => {
    const nodes = field(spec, 'nodeSelector') !== undefined;
    const subject: PodSet = nodes
      ? { namespaces: { kind: 'every' }, pods: EVERY_LABEL_SET }
      : podSetOf(field(spec, 'endpointSelector'), namespace);
    return {
      source: {
        group: 'cilium.io',
        version,
        kind: judgedKind,
        namespace,
        name: stringField(object, 'metadata', 'name'),
      },
      subject,
      ingress: directionOf(spec, at, 'ingress', namespace, lookups),
      egress: directionOf(spec, at, 'egress', namespace, lookups),
      bounded: true,
      ...(nodes ? { nodes: true } : {}),
    };
  });
}

/** A CiliumCIDRGroup's `spec.externalCIDRs` as the addresses it holds. */
export function cidrGroupOf(object: KubeObject): CidrGroup {
  const labels = asRecord(field(object, 'metadata', 'labels')) ?? {};
  const blocks = strings(field(object, 'spec', 'externalCIDRs')).map(
    (cidr) => blockPeer('', cidr, []).addresses,
  );
  return {
    name: stringField(object, 'metadata', 'name'),
    labels: Object.fromEntries(
      Object.entries(labels).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    ),
    addresses: unionAll(blocks),
  };
}
