import type { NetworkPolicy, Peer as WrittenPeer, PolicyRule } from './network-policy.ts';
import { NO_ADDRESSES } from '../semantics/addresses.ts';
import { NAMESPACE_NAME_LABEL } from '../semantics/selectors.ts';
import { labelSetOf, EVERY_LABEL_SET } from './label-set.ts';
import type {
  DirectionMeaning,
  Grant,
  NamespaceSet,
  Peer,
  PolicyMeaning,
} from './policy-meaning.ts';

type Selector = NetworkPolicy['podSelector'];

/** A namespaceSelector as a namespace set: every one, the names it pins, or its labels. */
function namespacesOf(selector: Selector | undefined, own: string): NamespaceSet {
  if (selector === undefined) return { kind: 'named', names: [own] };
  const labels = labelSetOf(selector);
  // Exactly every namespace: no requirement but Exists on the name label every namespace carries.
  // (`NotIn [x]` selects all but x: not every one here, though NP003 judges it as every one.)
  if (
    labels.requirements.every(
      (requirement) =>
        requirement.key === NAMESPACE_NAME_LABEL && requirement.operator === 'Exists',
    )
  )
    return { kind: 'every' };
  const byName = labels.requirements.find(
    (requirement) => requirement.key === NAMESPACE_NAME_LABEL && requirement.operator === 'In',
  );
  // Pinned by name and nothing else: a list of names.
  if (byName !== undefined && labels.requirements.length === 1)
    return { kind: 'named', names: byName.values };
  return { kind: 'labelled', labels };
}

function peerOf(peer: WrittenPeer, namespace: string): Peer {
  if (peer.ipBlock !== undefined) {
    const { cidr, except } = peer.ipBlock;
    return {
      kind: 'addresses',
      path: peer.path,
      addresses: peer.ipBlock.addresses ?? NO_ADDRESSES,
      text: except.length === 0 ? cidr : `${cidr} except ${except.join(', ')}`,
    };
  }
  return {
    kind: 'pods',
    path: peer.path,
    pods: {
      namespaces: namespacesOf(peer.namespaceSelector, namespace),
      pods: peer.podSelector === undefined ? EVERY_LABEL_SET : labelSetOf(peer.podSelector),
    },
  };
}

function grantOf(rule: PolicyRule, namespace: string): Grant {
  return {
    path: rule.path,
    action: 'allow',
    peers:
      rule.peers.length === 0
        ? [{ kind: 'any', path: `${rule.path}.${rule.peersField}` }]
        : rule.peers.map((peer) => peerOf(peer, namespace)),
    ports: rule.portSet,
  };
}

function directionOf(
  policy: NetworkPolicy,
  rules: readonly PolicyRule[],
  direction: 'ingress' | 'egress',
): DirectionMeaning | undefined {
  if (!policy.policyTypes.has(direction)) return undefined;
  return { grants: rules.map((rule) => grantOf(rule, policy.namespace)) };
}

const compiled = new WeakMap<NetworkPolicy, PolicyMeaning>();

/**
 * The meaning of a parsed networking.k8s.io/v1 NetworkPolicy. Memoised per parsed object, so a
 * cached policy is compiled once however many reviews read it.
 */
export function meaningOf(policy: NetworkPolicy): PolicyMeaning {
  let meaning = compiled.get(policy);
  if (meaning !== undefined) return meaning;
  meaning = {
    source: {
      group: 'networking.k8s.io',
      version: 'v1',
      kind: 'NetworkPolicy',
      namespace: policy.namespace,
      name: policy.name,
    },
    subject: {
      namespaces: { kind: 'named', names: [policy.namespace] },
      pods: labelSetOf(policy.podSelector),
    },
    ingress: directionOf(policy, policy.ingress, 'ingress'),
    egress: directionOf(policy, policy.egress, 'egress'),
    bounded: true,
  };
  compiled.set(policy, meaning);
  return meaning;
}

/** The meaning of one written rule of a parsed policy (its grant), for rules that walk the spelling's paths. */
export function grantOfRule(policy: NetworkPolicy, rule: PolicyRule): Grant {
  return meaningOf(policy)[rule.direction]?.grants[rule.index] ?? grantOf(rule, policy.namespace);
}
