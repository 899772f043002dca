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
import type { Grant, Peer, PolicyMeaning } from '../model/policy-meaning.ts';
import { describeInternet, opensInternet } from '../model/public-space.ts';
import { difference, isEmpty, isSubset } from '../semantics/addresses.ts';
import { opensEveryPort, PROTOCOLS } from '../semantics/ports.ts';
import { DIALECT_POLICY_KINDS } from '../vocabulary.ts';
import { approvedEgressAddresses, privateAddresses } from './configured-addresses.ts';

type Judge = (meaning: PolicyMeaning, target: RuleTarget, ctx: EvaluationContext) => RawFinding[];

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
      message: `this ${direction} rule allows every peer (every pod in every namespace and any address outside the cluster) to ${where(direction)} on ${describePortSet(grant.ports)}.`,
      fix: 'Name the peers: endpoints or pods by label in named namespaces, or approved address blocks.',
    }));

export const anyNamespaceInMeaning: Judge = (meaning) =>
  peers(meaning)
    .filter(({ peer }) => peer.kind === 'pods' && peer.pods.namespaces.kind === 'every')
    .map(({ peer, direction }) => ({
      path: peer.path,
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
    void grant;
    const found = egressAddressFinding(peer, ctx);
    return found === undefined ? [] : [found];
  });

const ownNamespaceOnly = (grant: Grant, meaning: PolicyMeaning): boolean =>
  meaning.source.namespace !== undefined &&
  grant.peers.every(
    (peer) =>
      peer.kind === 'pods' &&
      peer.pods.namespaces.kind === 'named' &&
      peer.pods.namespaces.names.every((name) => name === meaning.source.namespace),
  );

export const portsRequiredInMeaning: Judge = (meaning, target) =>
  allowGrants(meaning)
    .filter(
      ({ grant, direction }) =>
        direction === 'ingress' &&
        grant.peers.length > 0 &&
        opensEveryPort(grant.ports) &&
        !(target.environment.mode === 'constrain' && ownNamespaceOnly(grant, meaning)),
    )
    .map(({ grant }) => ({
      path: grant.path,
      message: 'this ingress rule opens every port to its peers.',
      fix: 'List the ports the pods serve under toPorts (or ports), leaving the rest closed.',
    }));

const FRONTEND = { key: 'tier', value: 'frontend' } as const;

export const worldIngressInMeaning: Judge = (meaning, _target, ctx) => {
  const nonFrontend = jointSelections(meaning.subject.pods, []).some(
    (joint) => joint.labels[FRONTEND.key] !== FRONTEND.value,
  );
  if (!nonFrontend) return [];
  const notPublic = privateAddresses(ctx);
  return peers(meaning, 'ingress').flatMap(({ peer }) =>
    // A rule with every peer is NP002's, as a NetworkPolicy rule without `from` is.
    peer.kind === 'addresses' && opensInternet(peer.addresses, notPublic)
      ? [
          {
            path: peer.path,
            message: `${peer.text} lets ${describeInternet(peer.addresses, notPublic)} connect to pods that are not frontends.`,
            fix: 'Allow only the sources these pods need; if they serve the internet, select tier: frontend.',
          },
        ]
      : [],
  );
};

/** The reviewed dialect policy's meanings, with the CIDR groups and NetworkSets the cluster holds. */
export function dialectMeanings(
  target: RuleTarget,
  ctx: EvaluationContext,
): readonly PolicyMeaning[] {
  const version = target.input.version ?? gvkOfObject(target.object).version;
  return (
    meaningsOfDialect(target.kind, version, target.object, (kind) =>
      ctx.cluster.dialectObjects?.(kind),
    ) ?? []
  );
}

/**
 * The rule, extended to the dialect policy kinds: a NetworkPolicy is judged as before, a dialect
 * policy by `judge` over each of its meanings (a Cilium policy's `specs` are several).
 */
export function withDialects(rule: Rule, judge: Judge): Rule {
  return {
    ...rule,
    kinds: [...rule.kinds, ...DIALECT_POLICY_KINDS],
    check(target, ctx) {
      if (!(DIALECT_POLICY_KINDS as readonly string[]).includes(target.kind))
        return rule.check(target, ctx);
      return dialectMeanings(target, ctx).flatMap((meaning) => judge(meaning, target, ctx));
    },
  };
}
