import type { Rule } from '../engine/types.ts';
import { CLUSTER_SCOPED_POLICY_KINDS } from '../vocabulary.ts';

/** The garbage collector deletes what an owner leaves behind; it may DELETE, never write. */
const GARBAGE_COLLECTOR = 'system:serviceaccount:kube-system:generic-garbage-collector';

export const npPlatformOnly: Rule = {
  id: 'NP014',
  name: 'platform-only',
  kinds: CLUSTER_SCOPED_POLICY_KINDS,
  operations: ['CREATE', 'UPDATE', 'DELETE'],
  levels: { observe: 'deny', constrain: 'deny', enforce: 'deny' },
  judges: 'change',
  doc: {
    checks:
      'Cluster-scoped policy kinds (CiliumClusterwideNetworkPolicy, CiliumCIDRGroup, Calico GlobalNetworkPolicy and GlobalNetworkSet, ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy) are created, changed and deleted only by the users and groups in `spec.platform` (shipped: `system:masters`); the garbage collector may also delete them. It judges a write, so it applies at admission only: `check` and `audit` (no requester) never report it.',
    prevents:
      'A tenant who may write a cluster-scoped policy opens traffic for every namespace at once, above every namespaced guardrail.',
    fix: 'Ask the platform team to make the change, or to add the writer to spec.platform.',
    fires: `apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: open-world}
spec:
  endpointSelector: {}
  egress:
    - toEntities: [world]
`,
    passes: `apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: api-ingress, namespace: prod-shop}
spec:
  endpointSelector: {matchLabels: {app: api}}
  ingress:
    - fromEndpoints: [{matchLabels: {app: web}}]
      toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
`,
  },
  check(target, ctx) {
    // `check` and `audit` judge what is written, not a write: there is no requester to judge.
    if (target.input.offline === true) return [];
    const { user, operation } = target.input;
    const { users, groups } = ctx.policy.platform;
    if (users.includes(user.username) || user.groups.some((group) => groups.includes(group)))
      return [];
    if (operation === 'DELETE' && user.username === GARBAGE_COLLECTOR) return [];
    const verb = operation === 'DELETE' ? 'delete' : operation === 'UPDATE' ? 'change' : 'create';
    return [
      {
        path: 'metadata.name',
        message: `only the platform team may ${verb} a cluster-scoped ${target.kind}: it applies to every namespace at once, above every namespaced guardrail.`,
        fix: 'Ask the platform team (spec.platform in the guardrail policy) to make this change.',
      },
    ];
  },
};
