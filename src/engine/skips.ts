/**
 * What the engine does not judge at all, each a named predicate. Skips are for objects netguard has
 * no business with or wrote itself; nothing a requester writes into an object earns one.
 */
import { MANAGED_BY_LABEL, MANAGED_BY_NETGUARD, type KubeObject } from '../vocabulary.ts';
import { stringField } from '../object-access.ts';
import type { AdmissionInput, EvaluationContext } from './types.ts';

/**
 * In a namespace the policy excludes (kube-system, netguard's own, ...). GuardrailExceptions are
 * judged wherever they live: Namespace waivers live in netguard's own, excluded, namespace.
 */
export function isExcludedNamespace(
  input: AdmissionInput,
  scope: string,
  ctx: EvaluationContext,
): boolean {
  return (
    scope !== '' && input.kind !== 'GuardrailException' && ctx.policy.excludedNamespaces.has(scope)
  );
}

/**
 * A baseline NetworkPolicy written by netguard's own controller: netguard's output (an ingress
 * allow without ports, a default-deny), not user input. Both the identity (who asks) and the
 * label must hold; anyone else touching such a policy meets NP011.
 */
export function isWrittenByController(
  input: AdmissionInput,
  object: KubeObject,
  ctx: EvaluationContext,
): boolean {
  return (
    input.kind === 'NetworkPolicy' &&
    input.user.username === ctx.policy.controllerServiceAccount &&
    stringField(object, 'metadata', 'labels', MANAGED_BY_LABEL) === MANAGED_BY_NETGUARD
  );
}

/** A subresource (`pods/status`, `deployments/scale`): not the object's spec, never judged. */
export function isSubresource(subResource: string | undefined): boolean {
  return subResource !== undefined && subResource !== '';
}
