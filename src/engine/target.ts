/** What a review is about: its name, its namespace and environment, and the target every rule reads. */
import type { Environment } from '../config/policy.ts';
import { namespaceInfoOf } from '../labels.ts';
import { stringField } from '../object-access.ts';
import { viewOf } from './object-view.ts';
import { unknownNamespace, type KubeObject, type NamespaceInfo } from '../vocabulary.ts';
import { effectiveEnvironment } from './environment.ts';
import { trustedOwners } from './trust.ts';
import type { AdmissionInput, EvaluationContext, RuleTarget } from './types.ts';

export function objectName(input: AdmissionInput): string {
  const object = input.object ?? input.oldObject;
  return (
    input.name ||
    stringField(object, 'metadata', 'name') ||
    stringField(object, 'metadata', 'generateName')
  );
}

/** Namespaces describe themselves; anything else reads its namespace from the cluster view. */
export function namespaceOf(input: AdmissionInput, ctx: EvaluationContext): NamespaceInfo {
  if (input.kind === 'Namespace') {
    // An UPDATE is judged in the environment the namespace is in, not the one its new labels ask for.
    const object =
      input.operation === 'UPDATE'
        ? (input.oldObject ?? input.object)
        : (input.object ?? input.oldObject);
    return { ...namespaceInfoOf(object ?? {}), name: objectName(input) };
  }
  return ctx.cluster.namespace(input.namespace) ?? unknownNamespace(input.namespace);
}

/** Where a review is judged: the namespace it belongs to and that namespace's environment. */
export interface Placement {
  readonly name: string;
  readonly namespace: NamespaceInfo;
  readonly environment: Environment;
  /** What selector, name and default give, without the label: bounds Namespace waivers (EX001). */
  readonly baseEnvironment: Environment;
}

export function placementOf(input: AdmissionInput, ctx: EvaluationContext): Placement {
  const namespace = namespaceOf(input, ctx);
  const resolved = effectiveEnvironment(namespace, ctx);
  return {
    name: objectName(input),
    namespace,
    environment: resolved.environment,
    baseEnvironment: resolved.base,
  };
}

/** The one parsed view of the object every rule reads, with the owners the engine trusts. */
export function targetOf(
  input: AdmissionInput,
  object: KubeObject,
  placement: Placement,
  ctx: EvaluationContext,
): RuleTarget {
  return {
    input,
    kind: input.kind,
    name: placement.name,
    object,
    view: viewOf(input.kind, object, ctx.policy.networkPolicies.limits),
    owners: trustedOwners(input, object, ctx),
    namespace: placement.namespace,
    environment: placement.environment,
    baseEnvironment: placement.baseEnvironment,
  };
}
