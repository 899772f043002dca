import { selectorMatches } from '../labels.ts';
import type { Labels } from '../vocabulary.ts';
import { ALLOW_DNS_ANNOTATION } from '../vocabulary.ts';
import type { EvaluationContext, RawFinding, Rule, RuleTarget } from '../engine/types.ts';
import { dialectDnsNeighbours } from './dns-reach.ts';
import { intersection, isEmpty, type AddressSet } from '../semantics/addresses.ts';
import { clusterAddresses } from './configured-addresses.ts';
import { portOpen } from '../semantics/ports.ts';
import {
  asLabelSelector,
  rulesInEffect,
  type NetworkPolicy,
  type Peer,
  type PolicyRule,
  type Protocol,
} from '../model/network-policy.ts';

const DNS_PORT = 53;
// CoreDNS and kube-dns name their ports `dns` (UDP 53) and `dns-tcp` (TCP 53); a named port only means the port of that protocol.
const DNS_PORT_NAMES: Readonly<Record<'UDP' | 'TCP', readonly string[]>> = {
  UDP: ['dns'],
  TCP: ['dns-tcp'],
};
const DNS_PROTOCOLS = ['UDP', 'TCP'] as const;

interface DnsScope {
  readonly policyNamespace: string;
  readonly dnsNamespace: string;
  readonly dnsNamespaceLabels: Labels;
  readonly dnsPodLabels: Labels;
  /** Pod addresses (clusterCIDRs); undefined when none are configured. */
  readonly podAddresses: AddressSet | undefined;
}

function scopeOf(target: RuleTarget, ctx: EvaluationContext): DnsScope {
  const dns = ctx.policy.networkPolicies.dns;
  const known = ctx.cluster.namespace(dns.namespace);
  return {
    policyNamespace: target.namespace.name,
    dnsNamespace: dns.namespace,
    dnsNamespaceLabels: known?.labels ?? { 'kubernetes.io/metadata.name': dns.namespace },
    dnsPodLabels: dns.podLabels,
    podAddresses: clusterAddresses(ctx),
  };
}

/** Whether a peer can be the DNS pods: the right namespace and pod labels, or an ipBlock over pod addresses. */
function peerReachesDns(peer: Peer, scope: DnsScope): boolean {
  if (peer.ipBlock !== undefined) {
    const addresses = peer.ipBlock.addresses;
    if (addresses === undefined) return false;
    if (scope.podAddresses === undefined) return true; // pod addresses unknown: do not claim DNS is unreachable
    return !isEmpty(intersection(addresses, scope.podAddresses));
  }
  const podsMatch =
    peer.podSelector === undefined ||
    selectorMatches(asLabelSelector(peer.podSelector), scope.dnsPodLabels);
  if (peer.namespaceSelector === undefined) {
    return (
      peer.podSelector === undefined || (scope.policyNamespace === scope.dnsNamespace && podsMatch)
    );
  }
  return (
    selectorMatches(asLabelSelector(peer.namespaceSelector), scope.dnsNamespaceLabels) && podsMatch
  );
}

function ruleReachesDns(rule: PolicyRule, scope: DnsScope): boolean {
  return rule.peersWritten !== 'listed' || rule.peers.some((peer) => peerReachesDns(peer, scope));
}

function opensDnsPort(rule: PolicyRule, protocol: 'UDP' | 'TCP'): boolean {
  return portOpen(rule.portSet, protocol, DNS_PORT, DNS_PORT_NAMES[protocol]);
}

/** The DNS protocols a policy's egress rules allow to the DNS pods. */
function dnsAllowedByPolicy(policy: NetworkPolicy, scope: DnsScope): Set<Protocol> {
  const allowed = new Set<Protocol>();
  for (const rule of rulesInEffect(policy, 'egress')) {
    if (!ruleReachesDns(rule, scope)) continue;
    for (const protocol of DNS_PROTOCOLS) if (opensDnsPort(rule, protocol)) allowed.add(protocol);
  }
  return allowed;
}

/** DNS allowed for every pod of the namespace by other policies with an empty podSelector, and which ones. */
function dnsAllowedByNamespacePolicies(
  target: RuleTarget,
  ctx: EvaluationContext,
  scope: DnsScope,
): Map<Protocol, string> {
  const allowed = new Map<Protocol, string>();
  for (const other of ctx.cluster.namespaceWideEgressPolicies(target.namespace.name)) {
    if (other.name === target.name) continue;
    for (const protocol of dnsAllowedByPolicy(other, scope))
      if (!allowed.has(protocol)) allowed.set(protocol, `NetworkPolicy ${other.name}`);
  }
  // Cilium and Calico add their policies' allows to the NetworkPolicies': their DNS rule counts too.
  for (const [protocol, policy] of dialectDnsNeighbours(ctx, target.namespace.name, undefined))
    if (!allowed.has(protocol)) allowed.set(protocol, policy);
  return allowed;
}

const FIX_DNS_RULE = 'Add an egress rule for port 53 to kube-dns.';
const OTHER: Readonly<Record<Protocol, Protocol>> = { UDP: 'TCP', TCP: 'UDP', SCTP: 'SCTP' };

interface DnsFacts {
  /** Protocols this policy itself allows to the DNS pods. */
  readonly here: ReadonlySet<Protocol>;
  /** Protocols another namespace-wide policy allows, with its name. */
  readonly neighbours: ReadonlyMap<Protocol, string>;
  /** Protocols this policy opens on port 53 to destinations that are not the DNS pods. */
  readonly elsewhere: ReadonlySet<Protocol>;
}

/** Only one of UDP/TCP reaches the DNS pods: name the missing one, and where the rule that opens the other lives. */
function halfOpen(path: string, open: Protocol, facts: DnsFacts): RawFinding {
  const missing = OTHER[open];
  const message =
    open === 'UDP'
      ? 'egress allows DNS over UDP 53 but not TCP 53, so lookups whose answers do not fit in a UDP packet will fail.'
      : 'egress allows DNS over TCP 53 but not UDP 53, so almost every lookup will fail.';
  const neighbour = facts.neighbours.get(open);
  if (facts.here.has(open) || neighbour === undefined) {
    return { path, message, fix: `Add {protocol: ${missing}, port: 53} to the DNS egress rule.` };
  }
  return {
    path,
    message: `${message.slice(0, -1)} (DNS over ${open} is allowed only by ${neighbour}).`,
    fix: `Add {protocol: ${missing}, port: 53} to the DNS rule of ${neighbour}, or add an egress rule for UDP and TCP 53 to kube-dns here.`,
  };
}

function finding(policy: NetworkPolicy, facts: DnsFacts, scope: DnsScope): RawFinding {
  const path = policy.declaredPolicyTypes !== undefined ? 'spec.policyTypes' : 'spec.egress';
  const allowed = new Set([...facts.here, ...facts.neighbours.keys()]);
  if (allowed.has('UDP')) return halfOpen(path, 'UDP', facts);
  if (allowed.has('TCP')) return halfOpen(path, 'TCP', facts);
  if (facts.elsewhere.size > 0) {
    const pods = Object.entries(scope.dnsPodLabels)
      .map(([key, value]) => `${key}=${value}`)
      .join(', ');
    const only = facts.elsewhere.size === 1 ? ` (${[...facts.elsewhere].join('')} only)` : '';
    const both = facts.elsewhere.size === 1 ? ' Open both UDP 53 and TCP 53.' : '';
    return {
      path,
      message: `egress opens port 53${only} only to destinations that are not the DNS pods (${pods} in namespace ${scope.dnsNamespace}), so every lookup will fail.`,
      fix: `Add a peer to the DNS rule: namespaceSelector kubernetes.io/metadata.name=${scope.dnsNamespace} with podSelector ${pods}.${both}`,
    };
  }
  return {
    path,
    message: 'egress is restricted but DNS (UDP/TCP 53) is not allowed, so every lookup will fail.',
    fix: FIX_DNS_RULE,
  };
}

export const npDnsEgress: Rule = {
  id: 'NP001',
  name: 'dns-egress',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      'A NetworkPolicy that restricts Egress (listed in `policyTypes`, or implied by egress rules) allows DNS to the cluster DNS pods on both UDP 53 and TCP 53. A rule without `ports` allows every port; the named ports `dns` (UDP) and `dns-tcp` (TCP) and `endPort` ranges containing 53 count. DNS also counts as allowed when the namespace carries `netguard.dev/allow-dns: "true"` (the baseline controller then keeps a DNS policy) or another NetworkPolicy in the namespace with an empty podSelector allows it, or a Cilium or Calico policy (namespaced, or clusterwide reaching the namespace) that selects every pod of it does (those CNIs add what their policies allow to what NetworkPolicies allow). A Cilium policy whose egress names DNS names (`toFQDNs`) also needs DNS visibility: an egress rule to the DNS pods on port 53 with `toPorts[].rules.dns`, in that policy or in a Cilium policy that selects at least the same pods, since Cilium learns the addresses behind a name only from lookups its DNS proxy sees.',
    prevents:
      'The most common NetworkPolicy outage: egress is locked down, name resolution silently stops, and every client fails with timeouts that look like the remote service is down. Allowing only UDP breaks large answers, which retry over TCP.',
    fix: 'Add an egress rule to kube-dns for UDP and TCP 53, or annotate the namespace with `netguard.dev/allow-dns: "true"` so the baseline controller keeps a DNS policy.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-egress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 160.79.104.0/23}}]
      ports: [{protocol: TCP, port: 443}]
`,
    passes: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-egress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 160.79.104.0/23}}]
      ports: [{protocol: TCP, port: 443}]
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
          podSelector: {matchLabels: {k8s-app: kube-dns}}
      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
`,
  },
  check(target, ctx) {
    const policy = target.view.networkPolicy;
    if (policy === undefined || !policy.policyTypes.has('egress')) return [];
    if (target.namespace.annotations[ALLOW_DNS_ANNOTATION] === 'true') return [];
    const scope = scopeOf(target, ctx);
    const here = dnsAllowedByPolicy(policy, scope);
    if (here.has('UDP') && here.has('TCP')) return [];
    const neighbours = dnsAllowedByNamespacePolicies(target, ctx, scope);
    if ((here.has('UDP') || neighbours.has('UDP')) && (here.has('TCP') || neighbours.has('TCP')))
      return [];
    const elsewhere = new Set(
      rulesInEffect(policy, 'egress').flatMap((rule) =>
        DNS_PROTOCOLS.filter((protocol) => opensDnsPort(rule, protocol)),
      ),
    );
    return [finding(policy, { here, neighbours, elsewhere }, scope)];
  },
};
