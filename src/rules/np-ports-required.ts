import type { RawFinding, Rule, RuleTarget } from '../engine/types.ts';
import { opensEveryPort } from '../semantics/ports.ts';
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

function describe(rule: PolicyRule): RawFinding {
  const fix = 'List the ports the pods serve, e.g. ports: [{protocol: TCP, port: 8080}].';
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
      "Every ingress rule lists `ports` that do not open every port. A missing or empty `ports` opens every port and protocol of the selected pods to the rule's sources; so does an entry with a protocol and no port (or `port: null`), or ranges that together cover 1-65535 of a protocol (`port: 1, endPort: 65535`). In constrain, a rule whose peers are all pods of the policy's own namespace is exempt: that phase closes the namespace boundary and lets traffic inside it flow.",
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
  check(target) {
    const policy = target.view.networkPolicy;
    if (policy === undefined) return [];
    return rulesInEffect(policy, 'ingress')
      .filter((rule) => opensEveryPort(rule.portSet) && !intraNamespace(rule, target))
      .map(describe);
  },
};
