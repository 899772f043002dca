/**
 * Calico NetworkPolicy and GlobalNetworkPolicy (projectcalico.org/v3, crd.projectcalico.org/v1)
 * compiled into the one meaning of a policy. A rule with no source/destination matches any peer;
 * nets/notNets, selector/notSelector, ports/notPorts are the sets they denote; a rule selector also
 * matches NetworkSets, whose nets join the rule's peers. Deny and Pass rules are kept as such and
 * never subtracted; Log rules allow nothing.
 */
import { arrayField, asRecord, field, stringField } from '../../object-access.ts';
import { difference, unionAll, type AddressSet } from '../../semantics/addresses.ts';
import { FIRST_PORT, LAST_PORT, PROTOCOLS, type PolicyPort } from '../../semantics/ports.ts';
import {
  CALICO_GLOBAL_NETWORK_SET,
  CALICO_GLOBAL_POLICY,
  CALICO_NETWORK_SET,
  CALICO_POLICY,
  type KubeObject,
} from '../../vocabulary.ts';
import { EVERY_LABEL_SET, labelSetOf } from '../label-set.ts';
import {
  setKey,
  type DirectionMeaning,
  type Grant,
  type LabelSet,
  type NamespaceSet,
  type Peer,
  type PolicyMeaning,
} from '../policy-meaning.ts';
import { calicoSelects, parseCalicoSelector, type CalicoSelection } from './calico-selector.ts';
import {
  coversPods,
  denialOf,
  exactSelection,
  placeInTier,
  withoutDenied,
  type Denial,
} from './calico-order.ts';
import {
  blockPeer,
  internetPeer,
  portEntries,
  portsOf,
  protocolsOf,
  selectorOf,
  strings,
} from './read.ts';

export interface NetworkSet {
  readonly name: string;
  /** Undefined for a GlobalNetworkSet. */
  readonly namespace: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly addresses: AddressSet;
  readonly text: string;
}

export interface CalicoLookups {
  readonly networkSets: readonly NetworkSet[];
  /**
   * The GlobalNetworkPolicies the cluster holds: those before this one in its tier cancel its
   * Allows with their exact Denies.
   */
  readonly calicoPolicies?: readonly (readonly KubeObject[])[];
}

export const isCalicoPolicyKind = (kind: string): boolean =>
  kind === CALICO_POLICY || kind === CALICO_GLOBAL_POLICY;

const labelsOf = (object: unknown): Record<string, string> => {
  const labels = asRecord(field(object, 'metadata', 'labels')) ?? {};
  return Object.fromEntries(
    Object.entries(labels).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
};

export function networkSetOf(object: KubeObject): NetworkSet {
  const nets = strings(field(object, 'spec', 'nets'));
  const namespace = stringField(object, 'metadata', 'namespace');
  return {
    name: stringField(object, 'metadata', 'name'),
    namespace: namespace === '' ? undefined : namespace,
    labels: labelsOf(object),
    addresses: unionAll(nets.map((net) => blockPeer('', net, []).addresses)),
    text: nets.join(', '),
  };
}

/** The name a peer gives the NetworkSet its addresses come from. */
export const networkSetKey = (set: NetworkSet): string =>
  setKey(
    set.namespace === undefined ? CALICO_GLOBAL_NETWORK_SET : CALICO_NETWORK_SET,
    set.namespace,
    set.name,
  );

function namespacesOf(
  selection: CalicoSelection | undefined,
  own: string | undefined,
): NamespaceSet {
  if (selection === undefined)
    return own === undefined ? { kind: 'every' } : { kind: 'named', names: [own] };
  if (selection.everything) return { kind: 'every' };
  const named = selection.requirements.find(
    (r) => r.key === 'projectcalico.org/name' || r.key === 'kubernetes.io/metadata.name',
  );
  if (named?.operator === 'In' && selection.requirements.length === 1)
    return { kind: 'named', names: [...named.values].sort() };
  const positive = selection.requirements.some(
    (r) =>
      r.operator === 'In' || (r.operator === 'Exists' && r.key !== 'kubernetes.io/metadata.name'),
  );
  return positive
    ? { kind: 'labelled', labels: labelSetOf(selectorOf(selection.requirements)) }
    : { kind: 'every' };
}

const ALL_V4_V6 = internetPeer('', '').addresses;

/** The peers an entity rule (source or destination) names; `any` when it names none. */
function peersOf(
  entity: unknown,
  at: string,
  own: string | undefined,
  lookups: CalicoLookups,
): Peer[] {
  const nets = field(entity, 'nets');
  const notNets = strings(field(entity, 'notNets'));
  const selector = field(entity, 'selector');
  const notSelector = field(entity, 'notSelector');
  const namespaceSelector = field(entity, 'namespaceSelector');
  const named =
    Array.isArray(nets) ||
    notNets.length > 0 ||
    typeof selector === 'string' ||
    typeof notSelector === 'string' ||
    typeof namespaceSelector === 'string' ||
    field(entity, 'serviceAccounts') !== undefined ||
    field(entity, 'services') !== undefined;
  if (!named) return [{ kind: 'any', path: at }];
  const peers: Peer[] = [];
  const holes = unionAll(notNets.map((net) => blockPeer('', net, []).addresses));
  if (Array.isArray(nets)) {
    strings(nets).forEach((net, index) => {
      const block = blockPeer(`${at}.nets[${index}]`, net, notNets);
      peers.push(block);
    });
  } else if (notNets.length > 0 && typeof selector !== 'string') {
    // notNets alone: every address but those.
    peers.push({
      kind: 'addresses',
      path: `${at}.notNets`,
      addresses: difference(ALL_V4_V6, holes),
      text: `every address except ${notNets.join(', ')}`,
    });
  }
  if (
    typeof selector === 'string' ||
    typeof namespaceSelector === 'string' ||
    typeof notSelector === 'string' ||
    field(entity, 'serviceAccounts') !== undefined
  ) {
    const pods = typeof selector === 'string' ? parseCalicoSelector(selector) : undefined;
    const namespaces =
      typeof namespaceSelector === 'string' ? parseCalicoSelector(namespaceSelector) : undefined;
    const path =
      typeof namespaceSelector === 'string'
        ? `${at}.namespaceSelector`
        : typeof selector === 'string'
          ? `${at}.selector`
          : `${at}.notSelector`;
    peers.push({
      kind: 'pods',
      path,
      pods: {
        namespaces: namespacesOf(namespaces, own),
        pods:
          pods === undefined || pods.everything
            ? EVERY_LABEL_SET
            : labelSetOf(selectorOf(pods.requirements)),
      },
    });
    // A rule selector also matches NetworkSets: their nets are this rule's peers too.
    const selection = pods ?? parseCalicoSelector('all()');
    const sets = lookups.networkSets.filter(
      (set) =>
        calicoSelects(selection, set.labels) &&
        (set.namespace === undefined ||
          own === undefined ||
          set.namespace === own ||
          namespaces !== undefined),
    );
    for (const set of sets)
      peers.push({
        kind: 'addresses',
        path,
        addresses: difference(set.addresses, holes),
        text: `NetworkSet ${set.name} (${set.text})`,
        sources: [networkSetKey(set)],
      });
  }
  if (field(entity, 'services') !== undefined && peers.length === 0)
    peers.push(internetPeer(`${at}.services`, 'a Service, which may front any address'));
  return peers.length === 0 ? [] : peers;
}

/** ports minus notPorts, on the rule's protocol (none written: every protocol). */
function portsOfRule(rule: unknown, entity: unknown): Grant['ports'] {
  const protocols = protocolsOf(field(rule, 'protocol'));
  const ports = field(entity, 'ports');
  const notPorts = arrayField(entity, 'notPorts');
  let entries: PolicyPort[] = [];
  if (Array.isArray(ports))
    for (const port of ports) entries.push(...portEntries(protocols, port, undefined));
  else
    entries =
      protocols.length === PROTOCOLS.length
        ? []
        : protocols.map((protocol) => ({ protocol, port: undefined, endPort: undefined }));
  if (notPorts.length === 0) return portsOf(entries);
  const base = portsOf(entries);
  const closed = portsOf(notPorts.flatMap((port) => portEntries(protocols, port, undefined)));
  const remaining: PolicyPort[] = [];
  for (const protocol of protocols) {
    const open = base.all ? [[FIRST_PORT, LAST_PORT] as const] : base.ranges[protocol];
    let cursor: [number, number][] = open.map(([a, b]) => [a, b]);
    for (const [a, b] of closed.ranges[protocol])
      cursor = cursor.flatMap(([x, y]): [number, number][] =>
        b < x || a > y
          ? [[x, y]]
          : [
              ...(a > x ? [[x, a - 1] as [number, number]] : []),
              ...(b < y ? [[b + 1, y] as [number, number]] : []),
            ],
      );
    for (const [x, y] of cursor) remaining.push({ protocol, port: x, endPort: y });
  }
  return remaining.length === 0 ? NO_PORTS : portsOf(remaining);
}

const NO_PORTS: Grant['ports'] = {
  all: false,
  ranges: { TCP: [], UDP: [], SCTP: [] },
  names: { TCP: new Set(), UDP: new Set(), SCTP: new Set() },
};

/** Calico's default `types`: Egress when only egress rules exist, both when both do, else Ingress. */
function defaultTypes(spec: unknown): string[] {
  const ingress = arrayField(spec, 'ingress').length > 0;
  const egress = arrayField(spec, 'egress').length > 0;
  if (egress && !ingress) return ['Egress'];
  return egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

const ACTIONS: Readonly<Record<string, Grant['action']>> = {
  Allow: 'allow',
  Deny: 'deny',
  Pass: 'pass',
};

function directionOf(
  spec: unknown,
  direction: 'ingress' | 'egress',
  own: string | undefined,
  lookups: CalicoLookups,
  prior: readonly Denial[],
): DirectionMeaning | undefined {
  if (!restricts(spec, direction)) return undefined;
  const grants: Grant[] = [];
  // Earlier policies' Denies, then this policy's, each cancel what a later Allow would open.
  const denials: Denial[] = [...prior];
  arrayField(spec, direction).forEach((rule, index) => {
    const action = ACTIONS[stringField(rule, 'action')];
    if (action === undefined) return; // Log (or unknown): no effect on traffic
    const path = `spec.${direction}[${index}]`;
    const peerSide = direction === 'ingress' ? 'source' : 'destination';
    const ports = portsOfRule(rule, field(rule, 'destination'));
    const grant: Grant = {
      path,
      action,
      peers: peersOf(field(rule, peerSide), `${path}.${peerSide}`, own, lookups),
      ports,
    };
    grants.push(withoutDenied(grant, denials));
    const denial = denialOf(rule, direction, path, ports);
    if (denial !== undefined) denials.push(denial);
  });
  return { grants };
}

/** Whether a policy's `types` (written, or Calico's defaults) include the direction. */
function restricts(spec: unknown, direction: 'ingress' | 'egress'): boolean {
  const written = field(spec, 'types');
  const types = Array.isArray(written) ? strings(written) : defaultTypes(spec);
  return types.includes(direction === 'ingress' ? 'Ingress' : 'Egress');
}

/** A cached Calico policy with exact Denies and an order: one that may come before others. */
interface Denier {
  readonly namespace: string;
  readonly name: string;
  readonly tier: string;
  readonly order: number;
  /** Its selector, read exactly (undefined: not exactly readable, so it covers nothing for sure). */
  readonly pods: LabelSet | undefined;
  /** A GlobalNetworkPolicy whose namespaceSelector selects every namespace. */
  readonly everyNamespace: boolean;
  readonly denials: Readonly<Record<'ingress' | 'egress', readonly Denial[]>>;
}

/**
 * Whether two names may be one policy: `crd.projectcalico.org` stores `api-out` of tier default as
 * `default.api-out`, so a cached copy of the reviewed policy is never read as an earlier one.
 */
const sameCalicoName = (a: string, b: string): boolean =>
  a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);

const deniersByList = new WeakMap<readonly KubeObject[], readonly Denier[]>();

/** The policies of a cached list that may cancel later Allows, read once per list. */
function deniersOf(list: readonly KubeObject[]): readonly Denier[] {
  const known = deniersByList.get(list);
  if (known !== undefined) return known;
  const out: Denier[] = [];
  for (const other of list) {
    const place = placeInTier(other);
    if (place.order === Number.POSITIVE_INFINITY) continue; // evaluated last: before nothing
    const spec = field(other, 'spec');
    const namespace = stringField(other, 'metadata', 'namespace');
    const name = stringField(other, 'metadata', 'name');
    if (namespace !== '') continue; // see priorDenials: only global policies come first for sure
    const kind = 'GlobalNetworkPolicy';
    const denialsOf = (direction: 'ingress' | 'egress'): Denial[] =>
      !restricts(spec, direction)
        ? []
        : arrayField(spec, direction).flatMap((rule, index) => {
            const at = `${kind} ${name} spec.${direction}[${index}]`;
            const ports = portsOfRule(rule, field(rule, 'destination'));
            return denialOf(rule, direction, at, ports) ?? [];
          });
    const denials = { ingress: denialsOf('ingress'), egress: denialsOf('egress') };
    if (denials.ingress.length === 0 && denials.egress.length === 0) continue;
    out.push({
      namespace,
      name,
      ...place,
      pods: exactSelection(field(spec, 'selector')),
      everyNamespace: exactSelection(field(spec, 'namespaceSelector')) === EVERY_LABEL_SET,
      denials,
    });
  }
  deniersByList.set(list, out);
  return out;
}

/**
 * The exact Denies of the GlobalNetworkPolicies before this one in its tier (a lower `order`) that
 * select at least its pods in every namespace. Only global ones: only the platform team may change
 * or delete them (NP014). A namespaced policy's tenant could delete its earlier Deny without any
 * review of what that uncovers, so a namespaced policy's Deny cancels only its own later Allows.
 */
function priorDenials(
  object: KubeObject,
  direction: 'ingress' | 'egress',
  pods: LabelSet,
  lookups: CalicoLookups,
): Denial[] {
  const mine = placeInTier(object);
  const name = stringField(object, 'metadata', 'name');
  const out: Denial[] = [];
  for (const list of lookups.calicoPolicies ?? [])
    for (const other of deniersOf(list)) {
      if (other.namespace !== '' || !other.everyNamespace) continue;
      if (sameCalicoName(other.name, name)) continue; // itself, as cached (conservative)
      if (other.tier !== mine.tier || !(other.order < mine.order)) continue;
      if (!coversPods(other.pods, pods)) continue;
      out.push(...other.denials[direction]);
    }
  return out;
}

export function calicoMeanings(
  object: KubeObject,
  judgedKind: string,
  version: string,
  lookups: CalicoLookups,
): PolicyMeaning[] {
  const global = judgedKind === CALICO_GLOBAL_POLICY;
  const own = global ? undefined : stringField(object, 'metadata', 'namespace');
  const spec = field(object, 'spec');
  const selection = parseCalicoSelector(field(spec, 'selector') ?? 'all()');
  const pods = selection.everything
    ? EVERY_LABEL_SET
    : labelSetOf(selectorOf(selection.requirements));
  const namespaceSelector = field(spec, 'namespaceSelector');
  return [
    {
      source: {
        group: stringField(object, 'apiVersion').split('/')[0] ?? 'projectcalico.org',
        version,
        kind: judgedKind,
        namespace: own,
        name: stringField(object, 'metadata', 'name'),
      },
      subject: {
        namespaces: global
          ? namespacesOf(
              typeof namespaceSelector === 'string'
                ? parseCalicoSelector(namespaceSelector)
                : parseCalicoSelector('all()'),
              undefined,
            )
          : { kind: 'named', names: [own ?? ''] },
        pods,
      },
      ingress: directionOf(
        spec,
        'ingress',
        own,
        lookups,
        priorDenials(object, 'ingress', pods, lookups),
      ),
      egress: directionOf(
        spec,
        'egress',
        own,
        lookups,
        priorDenials(object, 'egress', pods, lookups),
      ),
      bounded: true,
    },
  ];
}
