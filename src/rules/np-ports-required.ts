import type { EvaluationContext, RawFinding, Rule, RuleTarget } from '../engine/types.ts';
import { grantOfRule, meaningOf } from '../model/compile-network-policy.ts';
import { jointSelections } from '../model/joint-selection.ts';
import { peerKey } from '../model/meaning-queries.ts';
import {
  describePolicies,
  mayOverlap,
  meaningOfObject,
  sameSource,
} from '../model/namespace-index.ts';
import { neighbourIndex } from './neighbours.ts';
import type { Grant, Peer as MeaningPeer, PolicyMeaning } from '../model/policy-meaning.ts';
import {
  everyPortProtocols,
  opensEveryPort,
  unionPortSets,
  type PortSet,
} from '../semantics/ports.ts';
import { NAMESPACE_NAME_LABEL, requiresLabel } from '../semantics/selectors.ts';
import {
  describePorts,
  rulesInEffect,
  type Peer,
  type PolicyRule,
} from '../model/network-policy.ts';

/** A peer that can only be a pod of the policy's own namespace. */
function inOwnNamespace(peer: Peer, namespace: string): boolean {
  if (peer.ipBlock !== undefined) return false;
  return (
    peer.namespaceSelector === undefined ||
    requiresLabel(peer.namespaceSelector, NAMESPACE_NAME_LABEL, namespace)
  );
}

/** In constrain the namespace boundary is what is enforced: traffic inside the namespace keeps flowing, on any port. */
function intraNamespace(rule: PolicyRule, target: RuleTarget): boolean {
  return (
    target.environment.mode === 'constrain' &&
    rule.peers.length > 0 &&
    rule.peers.every((peer) => inOwnNamespace(peer, target.namespace.name))
  );
}

const FIX = 'List the ports the pods serve, e.g. ports: [{protocol: TCP, port: 8080}].';

/** A peer of the meaning that can only be a pod of the policy's own namespace. */
export function meaningPeerInOwnNamespace(peer: MeaningPeer, namespace: string): boolean {
  return (
    peer.kind === 'pods' &&
    peer.pods.namespaces.kind === 'named' &&
    peer.pods.namespaces.names.every((name) => name === namespace)
  );
}

/** Each peer of a policy's ingress grants, with the grants that name it (by meaning). */
const byPeerMemo = new WeakMap<
  PolicyMeaning,
  Map<string, { peer: MeaningPeer; grants: Grant[] }>
>();

function grantsByPeer(meaning: PolicyMeaning): Map<string, { peer: MeaningPeer; grants: Grant[] }> {
  const known = byPeerMemo.get(meaning);
  if (known !== undefined) return known;
  const byPeer = new Map<string, { peer: MeaningPeer; grants: Grant[] }>();
  for (const grant of meaning.ingress?.grants ?? []) {
    if (grant.action !== 'allow') continue;
    for (const peer of grant.peers) {
      const key = peerKey(peer);
      const entry = byPeer.get(key);
      if (entry === undefined) byPeer.set(key, { peer, grants: [grant] });
      else if (!entry.grants.includes(grant)) entry.grants.push(grant);
    }
  }
  byPeerMemo.set(meaning, byPeer);
  return byPeer;
}

const portsOf = (grants: readonly Grant[]): PortSet =>
  unionPortSets(grants.map((grant) => grant.ports));

/** The ports other policies open to the same peer (by meaning), through their own grants. */
function othersPorts(others: readonly PolicyMeaning[], key: string): Grant[] {
  return others.flatMap((other) => grantsByPeer(other).get(key)?.grants ?? []);
}

/**
 * Across rules of this policy: a peer that several rules together leave with every port of a
 * protocol open (no single rule does). Across policies: other policies of any dialect selecting a
 * label set this subject matches, whose rules for the same peer complete every port with this one
 * (and did not without it: on UPDATE, `olds` are the old version's meanings).
 */
export function portUnions(
  meaning: PolicyMeaning,
  olds: readonly PolicyMeaning[],
  ctx: EvaluationContext,
  exempt: (peer: MeaningPeer) => boolean,
  at = 'spec.ingress',
): RawFinding[] {
  const findings: RawFinding[] = [];
  const mine = grantsByPeer(meaning);
  const reported = new Set<string>();
  for (const [key, { peer, grants }] of mine) {
    if (exempt(peer) || grants.some((grant) => opensEveryPort(grant.ports))) continue;
    if (grants.length < 2) continue;
    const protocols = everyPortProtocols(portsOf(grants));
    if (protocols.length === 0) continue;
    reported.add(key);
    findings.push({
      path: at,
      subject: [{ pods: meaning.subject.pods, peer, protocols }],
      message: `rules ${grants.map((grant) => grant.path).join(', ')} together open every ${protocols.join('/')} port (fewer than 1,024 closed) to ${peer.path}, so it can connect to every port of these pods, admin and debug ports included.`,
      fix: FIX,
    });
  }
  const namespace = meaning.source.namespace;
  if (namespace === undefined) return findings;
  const index = neighbourIndex(ctx, namespace);
  const others = mayOverlap(index.ingressGrants, meaning.subject.pods).filter(
    (other) => !sameSource(other, meaning),
  );
  if (others.length === 0) return findings;
  const oldGrants = olds.map(grantsByPeer);
  for (const joint of jointSelections(meaning.subject.pods, others)) {
    if (joint.others.length === 0) continue;
    for (const [key, { peer, grants }] of mine) {
      if (reported.has(key) || exempt(peer) || grants.some((grant) => opensEveryPort(grant.ports)))
        continue;
      const theirs = othersPorts(joint.others, key);
      if (theirs.length === 0) continue;
      const before = [...theirs, ...oldGrants.flatMap((old) => old.get(key)?.grants ?? [])];
      const protocols = everyPortProtocols(portsOf([...grants, ...theirs]));
      if (protocols.length === 0 || opensEveryPort(portsOf(before))) continue;
      reported.add(key);
      const named = joint.others.filter((other) => grantsByPeer(other).has(key));
      findings.push({
        path: at,
        subject: [{ pods: meaning.subject.pods, peer, protocols }],
        message: `with ${describePolicies(named)} (which select${named.length === 1 ? 's' : ''} these pods too), this policy opens every ${protocols.join('/')} port (fewer than 1,024 closed) to ${peer.path}, so it can connect to every port of these pods.`,
        fix: FIX,
      });
    }
  }
  return findings;
}

function describe(rule: PolicyRule): RawFinding {
  const fix = FIX;
  const path = `${rule.path}.ports`;
  if (rule.ports.length === 0) {
    return {
      path,
      message:
        'this ingress rule lists no ports, so its sources can connect to every port of these pods, admin and debug ports included.',
      fix,
    };
  }
  return {
    path,
    message: `this ingress rule's ports (${describePorts(rule.ports)}) cover every port of a protocol, so its sources can connect to every port of these pods, admin and debug ports included.`,
    fix,
  };
}

export const npPortsRequired: Rule = {
  id: 'NP008',
  name: 'ports-required',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      "Every ingress rule lists `ports` that do not open every port. A missing or empty `ports` opens every port and protocol of the selected pods to the rule's sources; so does an entry with a protocol and no port (or `port: null`), or ranges that leave fewer than 1,024 ports of a protocol closed (`port: 1, endPort: 65535`, `port: 2, endPort: 65535`, everything but port 22). Rules are added up per peer: two rules for the same peers (by meaning) that together leave fewer than 1,024 ports closed are one finding at `spec.ingress`, and so are other policies of the namespace, of any dialect (NetworkPolicies, Cilium and Calico policies, and clusterwide ones that reach the namespace), jointly selecting a label set this podSelector matches, when this policy is what completes the union (the finding names them). In constrain, a rule whose peers are all pods of the policy's own namespace is exempt: that phase closes the namespace boundary and lets traffic inside it flow.",
    prevents:
      'Exposing debug, admin and metrics ports (and anything a compromised container starts listening on) to peers that only needed the service port.',
    fix: 'List the ports the pods serve, e.g. `ports: [{protocol: TCP, port: 8080}]`.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
`,
    passes: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: web}}}]
      ports: [{protocol: TCP, port: 8080}]
`,
  },
  check(target, ctx) {
    const policy = target.view.networkPolicy;
    if (policy === undefined) return [];
    const meaning = meaningOf(policy);
    // (peer, protocol) pairs left with every port, for these pods.
    const own = rulesInEffect(policy, 'ingress')
      .filter((rule) => opensEveryPort(rule.portSet) && !intraNamespace(rule, target))
      .map((rule) => ({
        ...describe(rule),
        subject: grantOfRule(policy, rule).peers.map((peer) => ({
          pods: meaning.subject.pods,
          peer,
          protocols: everyPortProtocols(rule.portSet),
        })),
      }));
    if (meaning.ingress === undefined) return own;
    const constrain = target.environment.mode === 'constrain';
    const exempt = (peer: MeaningPeer): boolean =>
      constrain && meaningPeerInOwnNamespace(peer, target.namespace.name);
    const old =
      target.input.operation === 'UPDATE' ? meaningOfObject(target.input.oldObject) : undefined;
    const placed = { ...meaning, source: { ...meaning.source, namespace: target.namespace.name } };
    return [...own, ...portUnions(placed, old === undefined ? [] : [old], ctx, exempt)];
  },
};
