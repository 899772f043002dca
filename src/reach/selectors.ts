import { requiredLabelKeys, type Policy } from '../config/policy.ts';
import type { ReachGraph } from './graph.ts';
import type { Workload } from './model.ts';

/** Labels that name what a workload is, never how it was rolled out: `app`, `app.kubernetes.io/name`, the required labels. */
function stableKeys(policy: Policy): string[] {
  return [...new Set(['app', 'app.kubernetes.io/name', ...requiredLabelKeys(policy)])];
}

/**
 * The stable labels that pick out this workload in its namespace: the required labels when they
 * do, else every stable label it has. Undefined when it has none: a selector would then name the
 * whole namespace, so nothing is proposed for it.
 */
export function identifyingLabels(
  graph: ReachGraph,
  workload: Workload,
  policy: Policy,
): Record<string, string> | undefined {
  const picks = (labels: Record<string, string>): boolean =>
    Object.keys(labels).length > 0 &&
    graph
      .workloadsIn(workload.namespace)
      .every(
        (w) => (w === workload) === Object.entries(labels).every(([k, v]) => w.labels[k] === v),
      );
  const required: Record<string, string> = {};
  for (const label of policy.requiredLabels) {
    const key = [label.key, ...(label.aliases ?? [])].find(
      (candidate) => (workload.labels[candidate] ?? '') !== '',
    );
    const value = key === undefined ? undefined : workload.labels[key];
    if (key !== undefined && value !== undefined) required[key] = value;
  }
  if (picks(required)) return required;
  const stable = Object.fromEntries(
    stableKeys(policy)
      .filter((key) => (workload.labels[key] ?? '') !== '')
      .map((key) => [key, workload.labels[key] ?? '']),
  );
  return Object.keys(stable).length === 0 ? undefined : stable;
}

export const noStableLabels = (workload: Workload, policy: Policy): string =>
  `${workload.id} has none of the stable labels ${stableKeys(policy).join(', ')}, so a selector for it would name every pod of ${workload.namespace}; label it, then run advise again`;

/** Workloads besides `workload` that its identifying labels also select (none when it has its own app label). */
export function alsoSelected(graph: ReachGraph, workload: Workload, policy: Policy): string[] {
  const labels = Object.entries(identifyingLabels(graph, workload, policy) ?? {});
  if (labels.length === 0) return [];
  return graph
    .workloadsIn(workload.namespace)
    .filter((w) => w !== workload && labels.every(([k, v]) => w.labels[k] === v))
    .map((w) => w.id);
}
