import type { RawFinding, Rule } from '../engine/types.ts';
import { grantOfRule, meaningOf } from '../model/compile-network-policy.ts';
import {
  describePorts,
  rulesInEffect,
  type PolicyPort,
  type PolicyRule,
} from '../model/network-policy.ts';

/**
 * Exactly numeric port 53 on UDP or TCP: no range, no other port. A named port is whatever number
 * the destination pod gives that name, and without `to` the destination is any pod anywhere.
 */
function isDnsPort(entry: PolicyPort): boolean {
  if (entry.protocol === 'SCTP' || entry.port !== 53) return false;
  return entry.endPort === undefined || entry.endPort === 53;
}

/** The DNS allow rule is written without `to` on purpose (the DNS pods' addresses vary); it opens nothing else. */
function opensOnlyDns(rule: PolicyRule): boolean {
  return rule.direction === 'egress' && rule.ports.length > 0 && rule.ports.every(isDnsPort);
}

function describeRule(rule: PolicyRule): RawFinding {
  const field = `${rule.path}.${rule.peersField}`;
  const written =
    rule.peersWritten === 'absent'
      ? `has no ${rule.peersField}`
      : `has an empty ${rule.peersField}`;
  const ports = rule.ports.length === 0 ? 'on every port' : `on ${describePorts(rule.ports)}`;
  if (rule.direction === 'ingress') {
    return {
      path: field,
      message: `this ingress rule ${written}, so any source (every pod in every namespace and any address outside the cluster) can connect to these pods ${ports}.`,
      fix: 'List the allowed sources under from: a podSelector, a namespaceSelector by kubernetes.io/metadata.name, or an ipBlock.',
    };
  }
  return {
    path: field,
    message: `this egress rule ${written}, so these pods can connect to any destination, in the cluster or on the internet, ${ports}.`,
    fix: 'List the allowed destinations under to: a podSelector, a namespaceSelector by kubernetes.io/metadata.name, or an approved ipBlock.',
  };
}

export const npAllowAll: Rule = {
  id: 'NP002',
  name: 'allow-all',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      'Every ingress rule lists its sources in `from` and every egress rule its destinations in `to`. A missing or empty `from`/`to` means any peer at all. Egress rules that open only numeric port 53 (UDP or TCP) are exempt: that is the usual DNS allow rule. A named port (`dns`) is not exempt: without `to`, it is whatever port any destination pod gives that name. Every offending rule is reported.',
    prevents:
      'A policy that looks like isolation but admits the whole cluster and the internet: `- ports: [{port: 8080}]` without `from` lets every pod in every namespace, and any external address, reach the port.',
    fix: 'Name the peers: a `podSelector` for pods in the same namespace, a `namespaceSelector` on `kubernetes.io/metadata.name` (with a `podSelector` in the same item for specific pods), or an `ipBlock` for addresses outside the cluster.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-ingress, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - ports: [{protocol: TCP, port: 8080}]
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
    const pods = meaningOf(policy).subject.pods;
    return rulesInEffect(policy)
      .filter((rule) => rule.peersWritten !== 'listed' && !opensOnlyDns(rule))
      .map((rule) => ({
        ...describeRule(rule),
        // The ports opened to every peer, for these pods.
        subject: grantOfRule(policy, rule).peers.map((peer) => ({
          pods,
          peer,
          ports: rule.portSet,
        })),
      }));
  },
};
