/** What a review is about: its name, its namespace and environment, and the target every rule reads. */
import type { Environment } from '../config/policy.ts';
import { namespaceInfoOf } from '../labels.ts';
import { stringField } from '../object-access.ts';
import { gvkOfObject, judgedKindOf } from '../model/dialects/gvk.ts';
import { meaningsOfDialect } from '../model/dialects/meanings.ts';
import { viewOf } from './object-view.ts';
import {
  isClusterScopedPolicyKind,
  MODE_STRICTNESS,
  NETGUARD_NAMESPACE,
  unknownNamespace,
  type KubeObject,
  type NamespaceInfo,
} from '../vocabulary.ts';
import { effectiveEnvironment } from './environment.ts';
import { trustedOwners } from './trust.ts';
import type { AdmissionInput, EvaluationContext, RuleTarget } from './types.ts';

/**
 * The review as the engine judges it: `kind` becomes the name the rules know its group, version
 * and kind by, so a `projectcalico.org/v3` NetworkPolicy never meets the Kubernetes NetworkPolicy
 * rules, and a kind of an unknown group or version meets none.
 */
export function judgedInput(input: AdmissionInput): AdmissionInput {
  const written = gvkOfObject(input.object ?? input.oldObject);
  const kind = judgedKindOf({
    group: input.group ?? written.group,
    version: input.version ?? written.version,
    kind: input.kind,
  });
  return kind === input.kind ? input : { ...input, kind };
}

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
  if (isClusterScopedPolicyKind(input.kind)) return clusterScopedPlacement(input, ctx);
  const namespace = namespaceOf(input, ctx);
  const resolved = effectiveEnvironment(namespace, ctx);
  return {
    name: objectName(input),
    namespace,
    environment: resolved.environment,
    baseEnvironment: resolved.base,
  };
}

/**
 * A cluster-scoped policy is judged in the strictest environment among the namespaces its subject
 * can select (every environment's, unless it names its namespaces), and its waivers live in
 * netguard's own namespace.
 */
function clusterScopedPlacement(input: AdmissionInput, ctx: EvaluationContext): Placement {
  const object = input.object ?? input.oldObject ?? {};
  const version = input.version ?? gvkOfObject(object).version;
  const meanings =
    meaningsOfDialect(input.kind, version, object, (kind, namespace) =>
      ctx.cluster.dialectObjects?.(kind, namespace),
    ) ?? [];
  const named = meanings.every((meaning) => meaning.subject.namespaces.kind === 'named');
  const candidates =
    named && meanings.length > 0
      ? meanings.flatMap((meaning) =>
          meaning.subject.namespaces.kind === 'named'
            ? meaning.subject.namespaces.names.map(
                (name) =>
                  effectiveEnvironment(ctx.cluster.namespace(name) ?? unknownNamespace(name), ctx)
                    .environment,
              )
            : [],
        )
      : ctx.policy.environments;
  const environment = candidates.reduce(
    (strictest, each) =>
      MODE_STRICTNESS[each.mode] > MODE_STRICTNESS[strictest.mode] ? each : strictest,
    candidates[0] ?? ctx.policy.defaultEnvironment,
  );
  return {
    name: objectName(input),
    namespace: unknownNamespace(NETGUARD_NAMESPACE),
    environment,
    baseEnvironment: environment,
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
