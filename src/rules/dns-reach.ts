/**
 * Whether a compiled policy's egress reaches the cluster DNS pods (`networkPolicies.dns`), and on
 * which protocols: NP001's question of a meaning, for every dialect and for the neighbours whose
 * DNS rule a policy may rely on.
 */
import type { EvaluationContext } from '../engine/types.ts';
import { labelSetMatches } from '../model/label-set.ts';
import { sameSource } from '../model/namespace-index.ts';
import type { Peer, PolicyMeaning } from '../model/policy-meaning.ts';
import { intersection, isEmpty } from '../semantics/addresses.ts';
import { portOpen } from '../semantics/ports.ts';
import { clusterAddresses } from './configured-addresses.ts';
import { namespaceWideDialectPolicies } from './neighbours.ts';

export const DNS_NAMES: Readonly<Record<'UDP' | 'TCP', readonly string[]>> = {
  UDP: ['dns'],
  TCP: ['dns-tcp'],
};

/** Whether a peer can be the cluster DNS pods (`networkPolicies.dns`). */
export function reachesDns(peer: Peer, ctx: EvaluationContext): boolean {
  const dns = ctx.policy.networkPolicies.dns;
  if (peer.kind === 'any') return true;
  if (peer.kind === 'names') return false;
  if (peer.kind === 'addresses') {
    // Pod addresses unknown: do not claim DNS is unreachable (as NP001 does for ipBlocks).
    const cluster = clusterAddresses(ctx);
    if (cluster === undefined) return true;
    return !isEmpty(intersection(peer.addresses, cluster));
  }
  const { namespaces, pods } = peer.pods;
  const namespaceLabels = ctx.cluster.namespace(dns.namespace)?.labels ?? {
    'kubernetes.io/metadata.name': dns.namespace,
  };
  const inNamespace =
    namespaces.kind === 'every' ||
    (namespaces.kind === 'named' && namespaces.names.includes(dns.namespace)) ||
    (namespaces.kind === 'labelled' && labelSetMatches(namespaces.labels, namespaceLabels));
  return inNamespace && labelSetMatches(pods, dns.podLabels);
}

/** The DNS protocols (UDP, TCP) a meaning's egress allow grants open to the DNS pods. */
export function dnsProtocols(meaning: PolicyMeaning, ctx: EvaluationContext): Set<'UDP' | 'TCP'> {
  const open = new Set<'UDP' | 'TCP'>();
  for (const grant of meaning.egress?.grants ?? []) {
    if (grant.action !== 'allow' || !grant.peers.some((peer) => reachesDns(peer, ctx))) continue;
    for (const protocol of ['UDP', 'TCP'] as const)
      if (portOpen(grant.ports, protocol, 53, DNS_NAMES[protocol])) open.add(protocol);
  }
  return open;
}

/**
 * DNS protocols that dialect policies selecting every pod of `namespace` allow, each with the
 * policy that allows it (`CiliumNetworkPolicy allow-dns`): Cilium and Calico add their allows to
 * the namespace's NetworkPolicies, so a DNS rule there counts for every policy of the namespace.
 */
export function dialectDnsNeighbours(
  ctx: EvaluationContext,
  namespace: string,
  except: PolicyMeaning | undefined,
): Map<'UDP' | 'TCP', string> {
  const allowed = new Map<'UDP' | 'TCP', string>();
  for (const meaning of namespaceWideDialectPolicies(ctx, namespace)) {
    if (except !== undefined && sameSource(meaning, except)) continue;
    for (const protocol of dnsProtocols(meaning, ctx))
      if (!allowed.has(protocol))
        allowed.set(protocol, `${meaning.source.kind} ${meaning.source.name}`);
  }
  return allowed;
}
