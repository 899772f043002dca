import type { Policy } from '../config/policy.ts';
import type { KubeObject } from '../vocabulary.ts';
import { withEnforceBaseline } from './enforced.ts';
import { ReachGraph } from './graph.ts';
import { compilePolicy } from './policy.ts';
import { dialectPolicies } from './dialect-policy.ts';
import { worldFromObjects } from './workloads.ts';

export interface BuildOptions {
  /** Add the baseline every judged namespace would get in enforce (needs the GuardrailPolicy). */
  readonly asEnforced?: Policy | undefined;
  readonly defaultNamespace?: string;
  /** Extra NetworkPolicies (e.g. proposed ones) on top of what the objects hold. */
  readonly extraPolicies?: readonly KubeObject[];
}

/** Objects (manifests or a cluster's lists) in, reachability graph out. Throws PolicyError on an unreadable policy. */
export function buildGraph(objects: readonly KubeObject[], options: BuildOptions = {}): ReachGraph {
  const defaultNamespace = options.defaultNamespace ?? 'default';
  const world = worldFromObjects([...objects, ...(options.extraPolicies ?? [])], defaultNamespace);
  const policyObjects =
    options.asEnforced === undefined
      ? world.policyObjects
      : withEnforceBaseline(world.policyObjects, world.namespaces, options.asEnforced);
  const dialects = dialectPolicies(world.dialectObjects);
  return new ReachGraph({
    namespaces: world.namespaces,
    workloads: world.workloads,
    policies: [
      ...policyObjects.map((object) => compilePolicy(object, defaultNamespace)),
      ...dialects.policies,
    ],
    unmodelled: dialects.unmodelled,
  });
}
