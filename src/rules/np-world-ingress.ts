import { isDeepStrictEqual } from 'node:util';
import type { EvaluationContext, RawFinding, Rule, RuleTarget } from '../engine/types.ts';
import { coversInternet, isEmpty, union } from '../semantics/addresses.ts';
import { requiresLabel } from '../semantics/selectors.ts';
import { isEmptySelector, rulesInEffect, type NetworkPolicy } from '../model/network-policy.ts';

const FRONTEND = { key: 'tier', value: 'frontend' } as const;
const FIX =
  'Allow only the sources these pods need; if they serve the internet, run them as frontends (select tier: frontend) behind which backends stay private.';

/**
 * Policies add up: another policy of the namespace that selects the same pods (the same podSelector,
 * or every pod) may hold the other half of the internet. Returns its name when together they cover it.
 */
function completedBy(
  policy: NetworkPolicy,
  target: RuleTarget,
  ctx: EvaluationContext,
): string | undefined {
  if (isEmpty(policy.addresses.ingress)) return undefined;
  const same = ctx.cluster
    .networkPolicies(target.namespace.name)
    .filter(
      (other) =>
        other.name !== policy.name &&
        (isEmptySelector(other.podSelector) ||
          isDeepStrictEqual(other.podSelector, policy.podSelector)),
    )
    // One that covers the internet alone had its own NP012; it does not make every neighbour a finding.
    .filter((other) => !coversInternet(other.addresses.ingress));
  if (
    !coversInternet(
      union(policy.addresses.ingress, ...same.map((other) => other.addresses.ingress)),
    )
  )
    return undefined;
  return same
    .filter((other) => !isEmpty(other.addresses.ingress))
    .map((other) => other.name)
    .join(', ');
}

export const npWorldIngress: Rule = {
  id: 'NP012',
  name: 'world-ingress',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      "No ingress rule admits the whole internet to pods that are not frontends: an ingress peer set covering every address of a family (`0.0.0.0/0`, `::/0`, `::ffff:0.0.0.0/96`, or blocks such as `0.0.0.0/1` + `128.0.0.0/1` that together cover it, in one rule, across the policy's ingress rules, or together with another policy of the namespace that selects the same pods or every pod) is allowed only when `spec.podSelector` requires `tier: frontend` (`matchLabels` or `In [frontend]`). Rules without `from` are NP002's.",
    prevents:
      'Backends and data stores exposed to any address outside the cluster: only frontends should face the internet, and everything behind them should be reachable from the frontends alone.',
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
  check(target, ctx) {
    const policy = target.view.networkPolicy;
    if (policy === undefined || requiresLabel(policy.podSelector, FRONTEND.key, FRONTEND.value))
      return [];
    if (!coversInternet(policy.addresses.ingress)) {
      const others = completedBy(policy, target, ctx);
      if (others === undefined) return [];
      return [
        {
          path: 'spec.ingress',
          message: `with NetworkPolicy ${others} (which selects these pods too), these ipBlocks cover every address on the internet, so anyone can connect to pods that are not frontends.`,
          fix: FIX,
        },
      ];
    }
    const message =
      'these sources cover every address on the internet, so anyone can connect to pods that are not frontends (tier: frontend).';
    const rules = rulesInEffect(policy, 'ingress').filter((rule) => coversInternet(rule.addresses));
    // Rules each covering the internet are named; otherwise the blocks compose it across rules.
    if (rules.length === 0)
      return [
        {
          path: 'spec.ingress',
          message: `together, the ingress ipBlocks of this policy cover every address on the internet, so anyone can connect to pods that are not frontends (tier: frontend).`,
          fix: FIX,
        },
      ];
    return rules.map((rule): RawFinding => ({ path: `${rule.path}.from`, message, fix: FIX }));
  },
};
