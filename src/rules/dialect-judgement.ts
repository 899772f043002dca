/**
 * The NP rules on a dialect policy's compiled meaning (DESIGN "Policy dialects"): the same
 * questions the NetworkPolicy rules ask, asked of grants, at the dialect's own field paths. Only
 * allow grants are judged: deny and pass rules are never subtracted (conservative, documented).
 */
import type { EvaluationContext, RawFinding, Rule, RuleTarget } from '../engine/types.ts';
import { describePortSet } from '../model/dialects/describe.ts';
import { fqdnApproved, opensEveryName } from '../model/dialects/fqdn.ts';
import { gvkOfObject } from '../model/dialects/gvk.ts';
import { meaningsOfDialect } from '../model/dialects/meanings.ts';
import { jointSelections } from '../model/joint-selection.ts';
import { directionAddresses } from '../model/meaning-queries.ts';
import { describePolicies, sameSource } from '../model/namespace-index.ts';
import { completedBy } from './np-world-ingress.ts';
import { meaningPeerInOwnNamespace, portUnions } from './np-ports-required.ts';
import { policiesThroughSet, SET_KINDS, setAddressesPath } from './dialect-sets.ts';
import type { Grant, Peer, PolicyMeaning } from '../model/policy-meaning.ts';
import { describeInternet, opensInternet } from '../model/public-space.ts';
import { difference, isEmpty, isSubset } from '../semantics/addresses.ts';
import { everyPortProtocols, opensEveryPort, portOpen, PROTOCOLS } from '../semantics/ports.ts';
import type { SubjectAtom } from '../model/subject.ts';
import {
  ALLOW_DNS_ANNOTATION,
  CILIUM_CLUSTERWIDE_POLICY,
  CILIUM_POLICY,
  DIALECT_POLICY_KINDS,
} from '../vocabulary.ts';
import { meaningOf } from '../model/compile-network-policy.ts';
import { DNS_NAMES, dialectDnsNeighbours, dnsProtocols, reachesDns } from './dns-reach.ts';
import { dialectPoliciesReaching } from './neighbours.ts';
import { labelSetWithin } from '../model/label-set.ts';
import { approvedEgressAddresses, privateAddresses } from './configured-addresses.ts';

type Judge = (meaning: PolicyMeaning, target: RuleTarget, ctx: EvaluationContext) => RawFinding[];

/**
 * What a finding is about (DESIGN "Widening"): the policy's pods and namespaces, the peer, and the
 * ports (or the protocols left with every port), so an UPDATE is judged by meaning, not by path.
 */
function subjectOf(
  meaning: PolicyMeaning,
  peer: Peer,
  grant: Grant,
  only: 'ports' | 'protocols' | 'pods' = 'ports',
): SubjectAtom[] {
  const frame = { pods: meaning.subject.pods, namespaces: meaning.subject.namespaces, peer };
  if (only === 'pods') return [frame];
  if (only === 'protocols') return [{ ...frame, protocols: everyPortProtocols(grant.ports) }];
  return [{ ...frame, ports: grant.ports }];
}

interface Allowed {
  readonly grant: Grant;
  readonly direction: 'ingress' | 'egress';
}

function allowGrants(meaning: PolicyMeaning): Allowed[] {
  const out: Allowed[] = [];
  for (const direction of ['ingress', 'egress'] as const)
    for (const grant of meaning[direction]?.grants ?? [])
      if (grant.action === 'allow') out.push({ grant, direction });
  return out;
}

const peers = (meaning: PolicyMeaning, direction?: 'ingress' | 'egress') =>
  allowGrants(meaning)
    .filter((allowed) => direction === undefined || allowed.direction === direction)
    .flatMap((allowed) => allowed.grant.peers.map((peer) => ({ ...allowed, peer })));

/** Egress to numeric port 53 only (UDP/TCP): the DNS allow rule, exempt from NP002. */
function onlyDns(grant: Grant): boolean {
  const { ports } = grant;
  if (ports.all) return false;
  return PROTOCOLS.every(
    (protocol) =>
      ports.names[protocol].size === 0 &&
      ports.ranges[protocol].every(
        ([first, last]) => protocol !== 'SCTP' && first === 53 && last === 53,
      ),
  );
}

const where = (direction: 'ingress' | 'egress'): string =>
  direction === 'ingress' ? 'connect to these pods' : 'be reached by these pods';

export const allowAllInMeaning: Judge = (meaning) =>
  peers(meaning)
    .filter(
      ({ peer, grant, direction }) =>
        peer.kind === 'any' && !(direction === 'egress' && onlyDns(grant)),
    )
    .map(({ peer, grant, direction }) => ({
      path: peer.path,
      subject: subjectOf(meaning, peer, grant),
      message: `this ${direction} rule allows every peer (every pod in every namespace and any address outside the cluster) to ${where(direction)} on ${describePortSet(grant.ports)}.`,
      fix: 'Name the peers: endpoints or pods by label in named namespaces, or approved address blocks.',
    }));

export const anyNamespaceInMeaning: Judge = (meaning) =>
  peers(meaning)
    .filter(({ peer }) => peer.kind === 'pods' && peer.pods.namespaces.kind === 'every')
    .map(({ peer, grant, direction }) => ({
      path: peer.path,
      subject: subjectOf(meaning, peer, grant, 'pods'),
      message: `this ${direction} peer selects pods in every namespace, existing or future.`,
      fix: 'Name the namespaces the peers run in (by kubernetes.io/metadata.name or io.kubernetes.pod.namespace).',
    }));

function egressAddressFinding(peer: Peer, ctx: EvaluationContext): RawFinding | undefined {
  const approved = approvedEgressAddresses(ctx);
  const notPublic = privateAddresses(ctx);
  const approvedList =
    ctx.policy.networkPolicies.approvedEgressCIDRs.join(', ') || 'none configured';
  const fix = `Allow only the destinations they need (approved: ${approvedList}).`;
  if (peer.kind === 'any')
    return {
      path: peer.path,
      message: 'this rule lets these pods reach any address on the internet.',
      fix,
    };
  if (peer.kind === 'names') {
    const approvedNames = ctx.policy.networkPolicies.approvedEgressFQDNs;
    const open = peer.patterns.filter((pattern) => !fqdnApproved(pattern, approvedNames));
    if (open.length === 0) return undefined;
    const namesFix = `Name only approved destinations (approvedEgressFQDNs: ${approvedNames.join(', ') || 'none configured'}), or ask the platform team to approve this one.`;
    if (open.some(opensEveryName))
      return {
        path: peer.path,
        message: `${JSON.stringify(open.find(opensEveryName))} matches every DNS name, so these pods can reach any address on the internet.`,
        fix: namesFix,
      };
    return {
      path: peer.path,
      message: `${open.map((p) => JSON.stringify(p)).join(', ')} is not an approved egress name, so these pods can reach hosts nobody reviewed.`,
      fix: namesFix,
    };
  }
  if (peer.kind !== 'addresses') return undefined;
  if (isEmpty(peer.addresses) || isSubset(peer.addresses, approved)) return undefined;
  const unapproved = difference(peer.addresses, approved);
  if (opensInternet(unapproved, notPublic)) {
    const words = describeInternet(peer.addresses, notPublic);
    return {
      path: peer.path,
      message: `${peer.text} lets these pods reach ${words === 'the internet' ? 'any address on the internet' : words}.`,
      fix,
    };
  }
  return {
    path: peer.path,
    message: `${peer.text} is not inside an approved egress range, so these pods can reach addresses nobody reviewed.`,
    fix: `${fix} For a new destination, add it to networkPolicies.approvedEgressCIDRs or request an exception.`,
  };
}

export const worldEgressInMeaning: Judge = (meaning, _target, ctx) =>
  peers(meaning, 'egress').flatMap(({ peer, grant }) => {
    // `any` is NP002's, unless it is only DNS (then nothing to say).
    if (peer.kind === 'any') return [];
    const found = egressAddressFinding(peer, ctx);
    return found === undefined ? [] : [{ ...found, subject: subjectOf(meaning, peer, grant) }];
  });

const ownNamespaceOnly = (grant: Grant, meaning: PolicyMeaning): boolean =>
  meaning.source.namespace !== undefined &&
  grant.peers.every((peer) => meaningPeerInOwnNamespace(peer, meaning.source.namespace ?? ''));

/** An UPDATE's old version, compiled as the same dialect (no union it completed counts twice). */
function oldMeanings(target: RuleTarget, ctx: EvaluationContext): readonly PolicyMeaning[] {
  const old = target.input.operation === 'UPDATE' ? target.input.oldObject : undefined;
  if (old === undefined || SET_KINDS.includes(target.kind)) return [];
  return (
    meaningsOfDialect(target.kind, gvkOfObject(old).version, old, (kind, namespace) =>
      ctx.cluster.dialectObjects?.(kind, namespace),
    ) ?? []
  );
}

/** Unions across policies are judged for the reviewed policy itself, not for a set write's. */
const judgesUnions = (meaning: PolicyMeaning, target: RuleTarget): boolean =>
  meaning.source.namespace !== undefined && !SET_KINDS.includes(target.kind);

/** Where a direction's rules are written: `spec.ingress`, `specs[1].ingress`. */
const directionPath = (meaning: PolicyMeaning, direction: 'ingress' | 'egress'): string =>
  meaning[direction]?.grants[0]?.path.replace(/\[\d+\]$/, '') ?? `spec.${direction}`;

export const portsRequiredInMeaning: Judge = (meaning, target, ctx) => {
  const constrain = target.environment.mode === 'constrain';
  const own = allowGrants(meaning)
    .filter(
      ({ grant, direction }) =>
        direction === 'ingress' &&
        grant.peers.length > 0 &&
        opensEveryPort(grant.ports) &&
        !(constrain && ownNamespaceOnly(grant, meaning)),
    )
    .map(({ grant }) => ({
      path: grant.path,
      subject: grant.peers.flatMap((peer) => subjectOf(meaning, peer, grant, 'protocols')),
      message: 'this ingress rule opens every port to its peers.',
      fix: 'List the ports the pods serve under toPorts (or ports), leaving the rest closed.',
    }));
  if (meaning.ingress === undefined || !judgesUnions(meaning, target)) return own;
  // Across rules and across policies of any dialect (NetworkPolicies included).
  const namespace = meaning.source.namespace ?? '';
  const exempt = (peer: Peer): boolean => constrain && meaningPeerInOwnNamespace(peer, namespace);
  return [
    ...own,
    ...portUnions(
      meaning,
      oldMeanings(target, ctx),
      ctx,
      exempt,
      directionPath(meaning, 'ingress'),
    ),
  ];
};

const FRONTEND = { key: 'tier', value: 'frontend' } as const;

const INGRESS_FIX =
  'Allow only the sources these pods need; if they serve the internet, select tier: frontend.';

export const worldIngressInMeaning: Judge = (meaning, target, ctx) => {
  const nonFrontend = jointSelections(meaning.subject.pods, []).some(
    (joint) => joint.labels[FRONTEND.key] !== FRONTEND.value,
  );
  if (!nonFrontend) return [];
  const notPublic = privateAddresses(ctx);
  const each = peers(meaning, 'ingress').flatMap(({ peer, grant }) =>
    // A rule with every peer is NP002's, as a NetworkPolicy rule without `from` is.
    peer.kind === 'addresses' && opensInternet(peer.addresses, notPublic)
      ? [
          {
            path: peer.path,
            subject: subjectOf(meaning, peer, grant),
            message: `${peer.text} lets ${describeInternet(peer.addresses, notPublic)} connect to pods that are not frontends.`,
            fix: INGRESS_FIX,
          },
        ]
      : [],
  );
  if (each.length > 0 || meaning.ingress === undefined || !judgesUnions(meaning, target))
    return each;
  // No one peer opens it: the policy's rules together, or with other policies of any dialect.
  const everyGrant = peers(meaning, 'ingress').flatMap(({ peer, grant }) =>
    peer.kind === 'addresses' ? subjectOf(meaning, peer, grant) : [],
  );
  const own = directionAddresses(meaning, 'ingress');
  const path = directionPath(meaning, 'ingress');
  if (opensInternet(own, notPublic))
    return [
      {
        path,
        subject: everyGrant,
        message: `together, the ingress address peers of this policy reach ${describeInternet(own, notPublic)}, so anyone can connect to pods that are not frontends (tier: frontend).`,
        fix: INGRESS_FIX,
      },
    ];
  const others = completedBy(meaning, oldMeanings(target, ctx), ctx, notPublic);
  if (others === undefined) return [];
  return [
    {
      path,
      subject: everyGrant,
      message: `with ${describePolicies(others)} (which select${others.length === 1 ? 's' : ''} these pods too), these address peers reach the internet, so anyone can connect to pods that are not frontends.`,
      fix: INGRESS_FIX,
    },
  ];
};

/**
 * NP001 for a dialect policy that restricts egress: DNS on UDP and TCP 53 to the DNS pods, here or
 * in the namespace's NetworkPolicies that select every pod, or the namespace's allow-dns baseline.
 * Cluster-scoped policies are not checked (no one namespace's DNS to look at).
 */
export const dnsEgressInMeaning: Judge = (meaning, target, ctx) => {
  const namespace = meaning.source.namespace;
  if (meaning.egress === undefined || namespace === undefined) return [];
  if (target.namespace.annotations[ALLOW_DNS_ANNOTATION] === 'true') return [];
  const open = dnsProtocols(meaning, ctx);
  for (const neighbour of ctx.cluster.namespaceWideEgressPolicies(namespace))
    for (const protocol of dnsProtocols(meaningOf(neighbour), ctx)) open.add(protocol);
  for (const protocol of dialectDnsNeighbours(ctx, namespace, meaning).keys()) open.add(protocol);
  if (open.has('UDP') && open.has('TCP')) return [];
  const path = meaning.egress.grants[0]?.path.replace(/\[\d+\]$/, '') ?? 'spec.egress';
  return [
    {
      path,
      message:
        'egress is restricted but DNS (UDP/TCP 53) is not allowed, so every lookup will fail.',
      fix: 'Add an egress rule for port 53 (UDP and TCP) to kube-dns.',
    },
  ];
};

/** Whether a meaning's egress lets Cilium's DNS proxy see lookups to the DNS pods (`rules.dns`). */
const seesDns = (meaning: PolicyMeaning, ctx: EvaluationContext): boolean =>
  (meaning.egress?.grants ?? []).some(
    (grant) =>
      grant.action === 'allow' &&
      grant.dnsVisible === true &&
      grant.peers.some((peer) => reachesDns(peer, ctx)) &&
      portOpen(grant.ports, 'UDP', 53, DNS_NAMES.UDP),
  );

/**
 * NP001's second question, for a Cilium policy whose egress names DNS names (`toFQDNs`): Cilium
 * learns the addresses behind a name only from DNS answers its proxy sees, so some egress rule to
 * the DNS pods that select these pods must carry `toPorts[].rules.dns` (here, or in another Cilium
 * policy, namespaced or clusterwide, that selects at least these pods). Without it the names never
 * resolve to an allowed address and every connection to them fails.
 */
export const dnsVisibilityInMeaning: Judge = (meaning, target, ctx) => {
  const names = (meaning.egress?.grants ?? []).find(
    (grant) => grant.action === 'allow' && grant.peers.some((peer) => peer.kind === 'names'),
  );
  if (names === undefined || seesDns(meaning, ctx)) return [];
  // Another Cilium policy (not a cached copy of this one) over at least these pods may see DNS.
  const namespace = meaning.source.namespace ?? target.namespace.name;
  const sees = dialectPoliciesReaching(ctx, namespace).some(
    (other) =>
      (other.source.kind === CILIUM_POLICY || other.source.kind === CILIUM_CLUSTERWIDE_POLICY) &&
      !sameSource(other, meaning) &&
      labelSetWithin(meaning.subject.pods, other.subject.pods) &&
      seesDns(other, ctx),
  );
  if (sees) return [];
  return [
    {
      path: `${names.path}.toFQDNs`,
      message:
        'Cilium learns the addresses of these DNS names only from lookups its DNS proxy sees, and no egress rule to the DNS pods for these pods has toPorts[].rules.dns, so the names never resolve to an allowed address and every connection to them fails.',
      fix: 'Add `rules: {dns: [{matchPattern: "*"}]}` to the toPorts of the egress rule to kube-dns on port 53 (UDP and TCP), in this policy or in one that selects these pods.',
    },
  ];
};

/** The reviewed dialect policy's meanings, with the CIDR groups and NetworkSets the cluster holds. */
export function dialectMeanings(
  target: RuleTarget,
  ctx: EvaluationContext,
): readonly PolicyMeaning[] {
  const version = target.input.version ?? gvkOfObject(target.object).version;
  return (
    meaningsOfDialect(target.kind, version, target.object, (kind, namespace) =>
      ctx.cluster.dialectObjects?.(kind, namespace),
    ) ?? []
  );
}

/** Findings on the policies a set write changes, at the set's addresses, naming each policy. */
function judgedThroughSets(judge: Judge, target: RuleTarget, ctx: EvaluationContext): RawFinding[] {
  const path = setAddressesPath(target.kind);
  return policiesThroughSet(target, ctx).flatMap(({ policy, meaning }) =>
    judge(meaning, target, ctx).map((finding) => ({
      ...finding,
      path,
      message: `${policy} names this set at ${finding.path}: ${finding.message}`,
      fix: `${finding.fix} This set is part of ${policy}: narrow the set, or the policy's selector.`,
    })),
  );
}

/**
 * The rule, extended to the dialect policy kinds: a NetworkPolicy is judged as before, a dialect
 * policy by `judge` over each of its meanings (a Cilium policy's `specs` are several). With
 * `sets`, a write of a set a dialect policy names (NetworkSet, CiliumCIDRGroup) is judged as part
 * of each cached policy that names it.
 */
export function withDialects(rule: Rule, judge: Judge, options: { sets?: true } = {}): Rule {
  const sets = options.sets === true ? SET_KINDS : [];
  return {
    ...rule,
    kinds: [...rule.kinds, ...DIALECT_POLICY_KINDS, ...sets],
    check(target, ctx) {
      if (sets.includes(target.kind)) return judgedThroughSets(judge, target, ctx);
      if (!(DIALECT_POLICY_KINDS as readonly string[]).includes(target.kind))
        return rule.check(target, ctx);
      // Past networkPolicies.limits (NP013) a policy is not compiled: NP013 is its only finding.
      if ((target.view.excess?.length ?? 0) > 0) return [];
      return dialectMeanings(target, ctx).flatMap((meaning) => judge(meaning, target, ctx));
    },
  };
}
