/**
 * Where Calico's `order` and `Deny` decide (DESIGN "Policy dialects"): in a tier, policies are
 * evaluated by ascending `order` (no order: last), rules top to bottom, and the first rule that
 * matches ends the tier. So an Allow opens nothing an earlier Deny of the same policy, or a Deny of
 * an earlier GlobalNetworkPolicy of the same tier that selects at least the same pods, already
 * matched (only global ones: a tenant may delete its own namespaced Deny unreviewed).
 *
 * Only Denies netguard reads exactly are subtracted: a rule that matches on protocol, ports and
 * nets alone (no selectors, ICMP, HTTP, notNets, notPorts, ipVersion, service accounts), whose
 * ports cover the Allow's. Pass is never subtracted (a later tier or the profile may still allow
 * what it passes); tier order (Tier objects) is not read; anything else stays as written
 * (conservative: an Allow is never read as narrower than it may be).
 */
import { asRecord, field, stringField } from '../../object-access.ts';
import { difference, isEmpty, unionAll, type AddressSet } from '../../semantics/addresses.ts';
import { portSetNoBroader } from '../../semantics/ports.ts';
import { EVERY_LABEL_SET, labelSetOf, labelSetWithin } from '../label-set.ts';
import type { Grant, LabelSet, Peer, PortSet } from '../policy-meaning.ts';
import { parseCalicoSelector } from './calico-selector.ts';
import { blockPeer, protocolsOf, selectorOf, strings } from './read.ts';

/** What a Deny matches: every peer or some addresses, on these ports. */
export interface Denial {
  /** Where it is written: `spec.egress[0]`, or `GlobalNetworkPolicy deny-world spec.egress[0]`. */
  readonly at: string;
  readonly peers: 'every' | AddressSet;
  readonly ports: PortSet;
}

const RULE_KEYS: readonly string[] = ['action', 'protocol', 'source', 'destination', 'metadata'];

/** Keys an entity of a simple Deny may hold, by side. */
const keysOf = (entity: unknown): string[] | undefined => {
  if (entity === undefined) return [];
  const record = asRecord(entity);
  return record === undefined ? undefined : Object.keys(record);
};

/**
 * The Deny rule as a denial, when netguard reads it exactly; `ports` are the rule's own ports as
 * the policy's compiler reads them (`portsOfRule`).
 */
export function denialOf(
  rule: unknown,
  direction: 'ingress' | 'egress',
  at: string,
  ports: PortSet,
): Denial | undefined {
  if (stringField(rule, 'action') !== 'Deny') return undefined;
  const ruleKeys = keysOf(rule);
  if (ruleKeys === undefined || !ruleKeys.every((key) => RULE_KEYS.includes(key))) return undefined;
  const protocol = field(rule, 'protocol');
  if (protocol !== undefined && protocolsOf(protocol).length === 0) return undefined; // ICMP...
  const peerSide = direction === 'ingress' ? 'source' : 'destination';
  const podSide = direction === 'ingress' ? 'destination' : 'source';
  const peerKeys = keysOf(field(rule, peerSide));
  const podKeys = keysOf(field(rule, podSide));
  const allowedPeer = direction === 'egress' ? ['nets', 'ports'] : ['nets'];
  const allowedPod = direction === 'ingress' ? ['ports'] : [];
  if (peerKeys === undefined || podKeys === undefined) return undefined;
  if (!peerKeys.every((key) => allowedPeer.includes(key))) return undefined;
  if (!podKeys.every((key) => allowedPod.includes(key))) return undefined;
  const nets = field(rule, peerSide, 'nets');
  if (nets === undefined) return { at, peers: 'every', ports };
  if (!Array.isArray(nets)) return undefined;
  return {
    at,
    peers: unionAll(strings(nets).map((net) => blockPeer('', net, []).addresses)),
    ports,
  };
}

/** An Allow less what earlier denials already matched on the same ports. */
export function withoutDenied(grant: Grant, denials: readonly Denial[]): Grant {
  if (grant.action !== 'allow' || denials.length === 0) return grant;
  let peers = grant.peers;
  for (const denial of denials) {
    if (!portSetNoBroader(grant.ports, denial.ports)) continue;
    const { peers: denied } = denial;
    if (denied === 'every') return { ...grant, peers: [] };
    peers = peers.flatMap((peer): Peer[] => {
      if (peer.kind !== 'addresses') return [peer];
      const rest = difference(peer.addresses, denied);
      if (isEmpty(rest)) return [];
      if (rest === peer.addresses) return [peer];
      return [{ ...peer, addresses: rest, text: `${peer.text} (less what ${denial.at} denies)` }];
    });
  }
  return { ...grant, peers };
}

/** A selector netguard reads exactly (`all()`, empty, or a chain of simple terms), as a label set. */
export function exactSelection(written: unknown): LabelSet | undefined {
  if (written === undefined) return EVERY_LABEL_SET;
  if (typeof written !== 'string') return undefined;
  const text = written.trim();
  if (text === '' || text === 'all()') return EVERY_LABEL_SET;
  const selection = parseCalicoSelector(text);
  if (selection.everything || selection.global) return undefined; // unreadable: not exact
  return labelSetOf(selectorOf(selection.requirements));
}

/** A policy's place in its tier: its tier name and order (no order: after every ordered one). */
export function placeInTier(object: unknown): { tier: string; order: number } {
  const tier = stringField(object, 'spec', 'tier') || 'default';
  const order = field(object, 'spec', 'order');
  return {
    tier,
    order: typeof order === 'number' && Number.isFinite(order) ? order : Number.POSITIVE_INFINITY,
  };
}

/** Whether `subject` pods are all selected by an earlier policy whose selector reads as `wide`. */
export const coversPods = (wide: LabelSet | undefined, subject: LabelSet): boolean =>
  wide !== undefined && labelSetWithin(subject, wide);
