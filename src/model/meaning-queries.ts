import { NO_ADDRESSES, unionAll, type AddressSet } from '../semantics/addresses.ts';
import type { Grant, MeaningDirection, Peer, PolicyMeaning } from './policy-meaning.ts';

/** The addresses one grant's address peers cover together. */
export function grantAddresses(grant: Grant): AddressSet {
  const sets: AddressSet[] = [];
  for (const peer of grant.peers) if (peer.kind === 'addresses') sets.push(peer.addresses);
  return sets.length === 0 ? NO_ADDRESSES : unionAll(sets);
}

const memo: Record<MeaningDirection, WeakMap<PolicyMeaning, AddressSet>> = {
  ingress: new WeakMap(),
  egress: new WeakMap(),
};

/** Every address a direction's allow grants name, across its rules (memoised per meaning). */
export function directionAddresses(
  meaning: PolicyMeaning,
  direction: MeaningDirection,
): AddressSet {
  let set = memo[direction].get(meaning);
  if (set !== undefined) return set;
  const grants = meaning[direction]?.grants ?? [];
  set = unionAll(grants.filter((grant) => grant.action === 'allow').map(grantAddresses));
  memo[direction].set(meaning, set);
  return set;
}

/** A peer's meaning as a string, path aside: two peers that mean the same have equal keys. */
export function peerKey(peer: Peer): string {
  switch (peer.kind) {
    case 'any':
      return 'any';
    case 'names':
      return `names:${[...new Set(peer.patterns)].sort().join(',')}`;
    case 'addresses': {
      const text = (family: 'ipv4' | 'ipv6'): string =>
        peer.addresses[family]
          .map((i) => `${i.first.toString(16)}-${i.last.toString(16)}`)
          .join(',');
      return `addresses:${text('ipv4')}|${text('ipv6')}`;
    }
    case 'pods': {
      const namespaces = peer.pods.namespaces;
      const ns =
        namespaces.kind === 'every'
          ? 'every'
          : namespaces.kind === 'named'
            ? `named:${[...new Set(namespaces.names)].sort().join(',')}`
            : `labelled:${JSON.stringify(namespaces.labels)}`;
      return `pods:${ns}|${JSON.stringify(peer.pods.pods)}`;
    }
  }
}
