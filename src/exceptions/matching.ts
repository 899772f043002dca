import { selectorMatches, type LabelSelector } from '../labels.ts';
import { NETGUARD_NAMESPACE } from '../vocabulary.ts';
import type { RuleTarget } from '../engine/types.ts';
import { podTemplateOf } from '../model/pod-template.ts';
import { descendantsOf } from '../model/kinds.ts';
import { hasEqualityRequirement } from '../semantics/selectors.ts';
import type { Waiver } from './waiver.ts';

/** Where a waiver for this object must live: its own namespace, or netguard's for a Namespace. */
export function waiverScope(target: RuleTarget): string {
  return target.kind === 'Namespace' ? NETGUARD_NAMESPACE : target.namespace.name;
}

export function isEmptySelector(selector: LabelSelector): boolean {
  return (
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0
  );
}

function selectorCovers(waiver: Waiver, target: RuleTarget): boolean {
  const selector = waiver.target.selector;
  if (selector === undefined) return false;
  // Kinds compare exactly, as EX003 demands: `namespace` is no kind.
  const { kind } = waiver.target;
  // A selector waiver on a Deployment also covers the ReplicaSets and Pods its controllers create.
  if (kind !== target.kind && !descendantsOf(kind).includes(target.kind)) return false;
  const template = podTemplateOf(target.kind, target.object);
  // Only workloads and Pods carry pod labels; a selector without an equality requirement never counts (EX003 refuses it).
  if (template === undefined || !hasEqualityRequirement(selector)) return false;
  return selectorMatches(selector, template.labels);
}

function nameCovers(waiver: Waiver, target: RuleTarget): boolean {
  const { kind, name } = waiver.target;
  if (name === undefined) return false;
  if (kind === target.kind) return name === target.name;
  // Only owners the engine trusts: a hand-written ownerReference never reaches a workload's waiver.
  return target.owners.some((owner) => owner.kind === kind && owner.name === name);
}

/** Same scope, and the target named or selected; the rule is checked per finding. */
export function waiverCoversTarget(waiver: Waiver, target: RuleTarget): boolean {
  if (waiver.namespace !== waiverScope(target)) return false;
  return nameCovers(waiver, target) || selectorCovers(waiver, target);
}
