import { isDeepStrictEqual } from 'node:util';
import { field, keyPath, stringField } from '../object-access.ts';
import { KUBE_CONTROLLER_MANAGER, NAMESPACE_CONTROLLER } from '../engine/trust.ts';
import type { Rule, RuleTarget } from '../engine/types.ts';
import {
  ALLOW_DNS_ANNOTATION,
  BASELINE_POLICY_NAMES,
  DEFAULT_DENY_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_NETGUARD,
} from '../vocabulary.ts';

const isManaged = (object: unknown): boolean =>
  stringField(object, 'metadata', 'labels', MANAGED_BY_LABEL) === MANAGED_BY_NETGUARD;

/**
 * Fields whose change alters what the baseline enforces or who manages it; bookkeeping
 * (managedFields, resourceVersion) is not tampering. An owner a tenant attaches would let the
 * garbage collector delete the baseline when the tenant deletes that owner.
 */
const GUARDED_FIELDS: readonly (readonly string[])[] = [
  ['spec'],
  ['metadata', 'labels'],
  ['metadata', 'annotations'],
  ['metadata', 'ownerReferences'],
];

/**
 * Who empties a namespace being deleted: a baseline's DELETE by them is the namespace going away
 * (the API server lets nothing else be deleted by that identity), judged without any cache.
 */
const NAMESPACE_DELETERS: ReadonlySet<string> = new Set([
  NAMESPACE_CONTROLLER,
  KUBE_CONTROLLER_MANAGER,
]);

function changedField(target: RuleTarget): string | undefined {
  const before = target.input.oldObject;
  const changed = GUARDED_FIELDS.find(
    (path) => !isDeepStrictEqual(field(before, ...path), field(target.object, ...path)),
  );
  return changed?.join('.');
}

export const npBaselineTamper: Rule = {
  id: 'NP011',
  name: 'baseline-tamper',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE', 'DELETE'],
  levels: { observe: 'deny', constrain: 'deny', enforce: 'deny' },
  judges: 'change',
  doc: {
    checks: `Only netguard's controller (\`spec.controller.serviceAccount\`, default \`system:serviceaccount:netguard-system:netguard-controller\`) may CREATE a NetworkPolicy under a reserved baseline name (\`netguard-default-deny\`, \`netguard-allow-dns\`, \`netguard-allow-same-namespace\`) or labelled \`${MANAGED_BY_LABEL}: ${MANAGED_BY_NETGUARD}\`, and UPDATE or DELETE one so labelled. Changes to spec, labels, annotations or ownerReferences count; bookkeeping fields do not. The namespace controller (\`system:serviceaccount:kube-system:namespace-controller\`, or \`system:kube-controller-manager\`) may DELETE one: that is the namespace being deleted. Denied in every mode, observe included, because it protects netguard itself; a squatted name would keep the real baseline out.`,
    prevents:
      "Lifting a namespace's isolation by editing or deleting the baseline policy directly, which bypasses the namespace-annotation workflow, its NS002 review and its audit trail.",
    fix: `Change the baseline through the namespace annotations (\`${DEFAULT_DENY_ANNOTATION}\`, \`${ALLOW_DNS_ANNOTATION}\`); the controller reconciles the policies. To run a namespace without a baseline, request an exception for NS002.`,
    fires: `# DELETE by a user (not the controller's service account)
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: netguard-default-deny
  namespace: prod-shop
  labels: {${MANAGED_BY_LABEL}: ${MANAGED_BY_NETGUARD}}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
`,
    passes: `# The same change through the namespace: the controller updates the policy
apiVersion: v1
kind: Namespace
metadata:
  name: prod-shop
  annotations: {${DEFAULT_DENY_ANNOTATION}: "Ingress,Egress", ${ALLOW_DNS_ANNOTATION}: "true"}
`,
  },
  check(target, ctx) {
    const { input } = target;
    if (input.user.username === ctx.policy.controllerServiceAccount) return [];
    if (input.operation === 'DELETE' && NAMESPACE_DELETERS.has(input.user.username)) return [];
    if (input.operation === 'CREATE') {
      const reserved = BASELINE_POLICY_NAMES.includes(target.name);
      if (!reserved && !isManaged(target.object)) return [];
      const claim = reserved
        ? `${target.name} is a reserved baseline name`
        : `the ${MANAGED_BY_LABEL}: ${MANAGED_BY_NETGUARD} label claims netguard's ownership`;
      return [
        {
          path: reserved ? 'metadata.name' : keyPath('metadata.labels', MANAGED_BY_LABEL),
          message: `${claim}, and only netguard's controller (${ctx.policy.controllerServiceAccount}) may create such a policy; a squatted baseline name would keep the real baseline out.`,
          fix: reserved
            ? 'Choose another name for your policy.'
            : `Remove the ${MANAGED_BY_LABEL} label, or set it to your own tool.`,
        },
      ];
    }
    if (!isManaged(input.oldObject) && !isManaged(target.object)) return [];
    const namespace = /^[a-z0-9-]+$/.test(target.namespace.name)
      ? target.namespace.name
      : '<namespace>';
    const fix = `To change the baseline, edit the namespace annotations instead (kubectl annotate namespace ${namespace} ${DEFAULT_DENY_ANNOTATION}=Ingress,Egress --overwrite, or ${ALLOW_DNS_ANNOTATION}); the controller then updates this policy.`;
    const owner = `only netguard's controller (${ctx.policy.controllerServiceAccount}) may`;
    if (input.operation === 'DELETE') {
      return [
        {
          path: keyPath('metadata.labels', MANAGED_BY_LABEL),
          message: `this is a baseline NetworkPolicy managed by netguard, and ${owner} delete it; deleting it lifts the namespace's isolation.`,
          fix,
        },
      ];
    }
    const changed = changedField(target);
    if (changed === undefined) return [];
    return [
      {
        path: changed,
        message: `this is a baseline NetworkPolicy managed by netguard, and ${owner} change its ${changed}; the controller would revert the edit as drift.`,
        fix,
      },
    ];
  },
};
