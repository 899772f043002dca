import type { Rule } from '../engine/types.ts';
import { DIALECT_POLICY_KINDS } from '../vocabulary.ts';

/**
 * NP013: a policy counting more items than `networkPolicies.limits` allows. The view already
 * counted it (before parsing it) and left it uncompiled; this rule only reports the counts.
 */
export const npSizeBound: Rule = {
  id: 'NP013',
  name: 'size-bound',
  kinds: ['NetworkPolicy', ...DIALECT_POLICY_KINDS],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      'A policy holds no more items than `networkPolicies.limits` allows: rules (default 1,000), peers (1,000), ports (1,000) and values (10,000: matchExpressions values and `except` entries). Policies of every dialect are counted alike (docs/dialects.md): rules (Cilium: `ingress`, `egress`, `ingressDeny`, `egressDeny` in every `spec`/`specs` block; Calico and ClusterNetworkPolicy rules), peers (each `from*`/`to*` entry; Calico `nets`, `notNets` and selectors; ClusterNetworkPolicy `from`/`to` entries), ports (`toPorts[].ports`, `ports`, `notPorts`, `protocols`) and values (also Cilium `specs`, FQDN patterns and L7 rules, `networks` and `domainNames`). Items are counted on the object as sent, before anything else reads it; a policy over a limit is not compiled, so the other NetworkPolicy rules do not judge it (in observe it is admitted with a warning). An UPDATE that grows no count keeps the finding pre-existing; DELETE is never bounded.',
    prevents:
      'A policy so large that every review, cache and reachability query over its namespace slows down, or that hides a wide rule among thousands of narrow ones.',
    fix: 'Split the policy, or write the peers as fewer, wider selectors or blocks. If the size is intended, the platform team can raise `networkPolicies.limits`.',
    fires: '',
    passes: '',
  },
  check(target, ctx) {
    const excess = target.view.excess ?? [];
    return excess.map((over) => ({
      path: 'spec',
      message: `this policy has ${over.count} ${over.what}, more than the limit of ${over.limit}, so netguard does not judge it further.`,
      fix: `Split it into smaller policies, or ask the platform team to raise networkPolicies.limits.${over.what} (now ${ctx.policy.networkPolicies.limits[over.what]}).`,
    }));
  },
  // Pre-existing only while no count grew.
  widened(_path, before, after) {
    const old = before.view.excess ?? [];
    return (after.view.excess ?? []).some((over) => {
      const was = old.find((each) => each.what === over.what);
      return was === undefined || over.count > was.count;
    });
  },
};
