/**
 * What the rules do not judge, each a named predicate, and the one list (`SKIPS`) both entry points
 * ask, whose reason the decision carries. Skips are for objects netguard has no business with or
 * wrote itself; nothing a requester writes into an object earns one.
 */
import { MANAGED_BY_LABEL, MANAGED_BY_NETGUARD, type KubeObject } from '../vocabulary.ts';
import { stringField } from '../object-access.ts';
import type { AdmissionInput, EntryPoint, EvaluationContext, SkipReason } from './types.ts';

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

/** A review as the skips see it: the judged input, its name and the object written (the old one on DELETE). */
export interface SkipQuestion {
  readonly input: AdmissionInput;
  readonly name: string;
  readonly object: KubeObject | undefined;
}

export interface Skip {
  readonly reason: SkipReason;
  /** The entry points it applies at. */
  readonly at: readonly EntryPoint[];
  /**
   * Whether the decision still names the review's environment: netguard governs the namespace
   * (its controller's writes, a waiver's bookkeeping). A subresource's object is never read, and an
   * excluded namespace has no environment.
   */
  readonly placed: boolean;
  applies(review: SkipQuestion, ctx: EvaluationContext): boolean;
}

const BOTH: readonly EntryPoint[] = ['validate', 'mutate'];

/** In order: the first that applies is the decision's `skipped`. */
export const SKIPS: readonly Skip[] = [
  {
    reason: 'subresource',
    at: BOTH,
    placed: false,
    applies: ({ input }) => isSubresource(input.subResource),
  },
  {
    reason: 'excluded-namespace',
    at: BOTH,
    placed: false,
    applies: ({ input, name }, ctx) =>
      isExcludedNamespace(input, input.kind === 'Namespace' ? name : input.namespace, ctx),
  },
  {
    reason: 'controller-written',
    at: BOTH,
    placed: true,
    applies: ({ input, object }, ctx) =>
      object !== undefined && isWrittenByController(input, object, ctx),
  },
  {
    // At /validate the EX rules judge it like any object; at /mutate no rule changes it.
    reason: 'exception-bookkeeping',
    at: ['mutate'],
    placed: true,
    applies: ({ input }) => input.kind === 'GuardrailException',
  },
];

/** The first skip that applies to this review at this entry point, or undefined: the rules judge it. */
export function skipOf(
  entry: EntryPoint,
  review: SkipQuestion,
  ctx: EvaluationContext,
): Skip | undefined {
  return SKIPS.find((skip) => skip.at.includes(entry) && skip.applies(review, ctx));
}
