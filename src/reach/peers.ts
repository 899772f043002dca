import type { CidrRange } from '../cidr.ts';
import { holdsRange } from '../semantics/addresses.ts';
import type { Labels } from '../vocabulary.ts';
import type { Endpoint, IpBlockPeer, PeerSpec } from './model.ts';

/** An address is in an ipBlock when the addresses it means (CIDR minus except) hold it. */
export function ipBlockHolds(block: IpBlockPeer, address: CidrRange): boolean {
  return holdsRange(block.addresses, address);
}

/**
 * Whether a peer of a policy in `policyNamespace` names `endpoint`. Selector peers name pods (by
 * their labels and their namespace's labels), never outside addresses; ipBlock peers name
 * addresses, including pod IPs where the cluster told us them.
 */
export function peerNames(
  peer: PeerSpec,
  policyNamespace: string,
  endpoint: Endpoint,
  namespaceLabels: (name: string) => Labels | undefined,
): boolean {
  if (peer.kind === 'ipBlock') {
    if (endpoint.kind === 'external' && endpoint.entity !== undefined) return false;
    // Cilium CIDRs and `world` select only what lies outside the cluster: never a pod.
    if (endpoint.kind === 'workload' && peer.outsideOnly === true) return false;
    const addresses = endpoint.kind === 'external' ? [endpoint.address] : endpoint.addresses;
    return addresses.some((address) => ipBlockHolds(peer, address));
  }
  if (endpoint.kind === 'external') return false;
  if (peer.namespaceMatches === undefined) {
    if (endpoint.namespace !== policyNamespace) return false;
  } else {
    const labels = namespaceLabels(endpoint.namespace);
    if (labels === undefined || !peer.namespaceMatches(labels)) return false;
  }
  return peer.podMatches(endpoint.labels);
}
