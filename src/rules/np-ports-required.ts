import type { Rule } from '../engine/types.ts';
import { networkPolicyOf, rulesInEffect } from './network-policy.ts';

export const npPortsRequired: Rule = {
  id: 'NP008',
  name: 'ports-required',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks: 'Every ingress rule lists `ports`. A missing or empty `ports` opens every port and protocol of the selected pods to the rule\'s sources.',
    prevents: 'Exposing debug, admin and metrics ports (and anything a compromised container starts listening on) to peers that only needed the service port.',
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
    const policy = networkPolicyOf(target.object);
    if (policy === undefined) return [];
    return rulesInEffect(policy, 'ingress')
      .filter((rule) => rule.ports.length === 0)
      .map((rule) => ({
        path: `${rule.path}.ports`,
        message: 'this ingress rule lists no ports, so its sources can connect to every port of these pods, admin and debug ports included.',
        fix: 'List the ports the pods serve, e.g. ports: [{protocol: TCP, port: 8080}].',
      }));
  },
};
