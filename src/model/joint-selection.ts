import type { Labels } from '../vocabulary.ts';
import { labelSetMatches, labelSetOf, witnesses } from './label-set.ts';
import type { LabelSet, PolicyMeaning } from './policy-meaning.ts';

/** Past this many overlapping policies, candidate label sets would grow without bound. */
export const JOINT_POLICIES_MAX = 64;

/** A label set the reviewed podSelector matches, and the other policies that select it too. */
export interface JointSelection {
  readonly labels: Labels;
  readonly others: readonly PolicyMeaning[];
}

/** Both sets' requirements at once: the pods both select. */
function both(a: LabelSet, b: LabelSet): LabelSet {
  return labelSetOf({ matchExpressions: [...a.requirements, ...b.requirements] });
}

const keyOf = (labels: Labels): string =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * The label sets across policies are judged on (DESIGN "Across policies"): candidates come from
 * the equality and `In` requirements of the reviewed subject, alone and together with each other
 * policy whose subject it overlaps (at most {@link JOINT_POLICIES_MAX} of them). For each, the
 * other policies selecting it.
 */
export function jointSelections(
  subject: LabelSet,
  others: readonly PolicyMeaning[],
): JointSelection[] {
  const candidates = new Map<string, Labels>();
  const add = (labels: Labels): void => {
    const key = keyOf(labels);
    if (!candidates.has(key)) candidates.set(key, labels);
  };
  for (const labels of witnesses(subject)) add(labels);
  let overlapping = 0;
  for (const other of others) {
    if (overlapping >= JOINT_POLICIES_MAX) break;
    const joint = witnesses(both(subject, other.subject.pods));
    if (joint.length === 0) continue;
    overlapping += 1;
    for (const labels of joint) add(labels);
  }
  return [...candidates.values()].map((labels) => ({
    labels,
    others: others.filter((other) => labelSetMatches(other.subject.pods, labels)),
  }));
}
