import type { RawFinding, Rule } from '../engine/types.ts';
import { coversInternet } from '../semantics/addresses.ts';
import { requiresLabel } from '../semantics/selectors.ts';
import { rulesInEffect } from './network-policy.ts';

const FRONTEND = { key: 'tier', value: 'frontend' } as const;
const FIX = 'Allow only the sources these pods need; if they serve the internet, run them as frontends (select tier: frontend) behind which backends stay private.';

export const npWorldIngress: Rule = {
  id: 'NP012',
  name: 'world-ingress',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      'No ingress rule admits the whole internet to pods that are not frontends: an ingress peer set covering every address of a family (`0.0.0.0/0`, `::/0`, `::ffff:0.0.0.0/96`, or blocks such as `0.0.0.0/1` + `128.0.0.0/1` that together cover it, in one rule or across the policy\'s ingress rules) is allowed only when `spec.podSelector` requires `tier: frontend` (`matchLabels` or `In [frontend]`). Rules without `from` are NP002\'s.',
    prevents: 'Backends and data stores exposed to any address outside the cluster: only frontends should face the internet, and everything behind them should be reachable from the frontends alone.',
    fix: 'List the sources the pods need (the frontends, a load balancer range); select frontends with `tier: frontend` if they serve the internet.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-public, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: api, tier: backend}}
  policyTypes: [Ingress]
  ingress:
    - from: [{ipBlock: {cidr: 0.0.0.0/1}}, {ipBlock: {cidr: 128.0.0.0/1}}]
      ports: [{protocol: TCP, port: 8080}]
`,
    passes: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-public, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: web, tier: frontend}}
  policyTypes: [Ingress]
  ingress:
    - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
      ports: [{protocol: TCP, port: 443}]
`,
  },
  check(target) {
    const policy = target.view.networkPolicy;
    if (policy === undefined || requiresLabel(policy.podSelector, FRONTEND.key, FRONTEND.value)) return [];
    if (!coversInternet(policy.addresses.ingress)) return [];
    const message = 'these sources cover every address on the internet, so anyone can connect to pods that are not frontends (tier: frontend).';
    const rules = rulesInEffect(policy, 'ingress').filter((rule) => coversInternet(rule.addresses));
    // Rules each covering the internet are named; otherwise the blocks compose it across rules.
    if (rules.length === 0) return [{ path: 'spec.ingress', message: `together, the ingress ipBlocks of this policy cover every address on the internet, so anyone can connect to pods that are not frontends (tier: frontend).`, fix: FIX }];
    return rules.map((rule): RawFinding => ({ path: `${rule.path}.from`, message, fix: FIX }));
  },
};
