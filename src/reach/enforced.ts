import type { Policy } from '../config/policy.ts';
import { BASELINE_POLICY_NAMES } from '../vocabulary.ts';
import type { KubeObject } from '../vocabulary.ts';
import { desiredBaseline, networkPolicyObject } from '../model/baseline-policies.ts';
import { stringField } from '../object-access.ts';
import { baselineAnnotations } from '../model/baseline-annotations.ts';
import type { NamespaceNode } from './model.ts';

// Any policy under a reserved name: the controller takes a hand-made one back (NP011), label or not.
const isBaselinePolicy = (object: KubeObject): boolean =>
  BASELINE_POLICY_NAMES.includes(stringField(object, 'metadata', 'name'));

/**
 * The NetworkPolicies as they would be with every judged namespace in enforce: the controller's
 * baseline for enforce (default-deny Ingress and Egress, DNS to kube-dns) replaces whatever
 * baseline a namespace has today, and any hand-made policy squatting a baseline name. Excluded namespaces get none, as in the cluster.
 */
export function withEnforceBaseline(
  policyObjects: readonly KubeObject[],
  namespaces: readonly NamespaceNode[],
  policy: Policy,
): KubeObject[] {
  const judged = namespaces.filter((ns) => !policy.excludedNamespaces.has(ns.name));
  const judgedNames = new Set(judged.map((ns) => ns.name));
  const kept = policyObjects.filter(
    (object) =>
      !(judgedNames.has(stringField(object, 'metadata', 'namespace')) && isBaselinePolicy(object)),
  );
  const baseline = desiredBaseline(baselineAnnotations('enforce'), policy.networkPolicies.dns);
  return [
    ...kept,
    ...judged.flatMap((ns) => baseline.map((desired) => networkPolicyObject(ns.name, desired))),
  ];
}
