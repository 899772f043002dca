/**
 * The policies a namespace's pods are selected by, of every dialect the cluster view holds (DESIGN
 * "Across policies"): its NetworkPolicies, its CiliumNetworkPolicies and Calico NetworkPolicies,
 * and the clusterwide Cilium and Calico global policies whose subject reaches the namespace. NP008
 * and NP012 add up their grants, whichever dialect each is written in.
 */
import type { EvaluationContext } from '../engine/types.ts';
import { gvkOfObject } from '../model/dialects/gvk.ts';
import { meaningsOfDialect } from '../model/dialects/meanings.ts';
import { withinLimits } from '../model/dialects/size.ts';
import { labelSetMatches } from '../model/label-set.ts';
import type { NetworkPolicy } from '../model/network-policy.ts';
import { indexOfMeanings, namespaceIndex, type NamespaceIndex } from '../model/namespace-index.ts';
import { meaningOf } from '../model/compile-network-policy.ts';
import type { NamespaceSet, PolicyMeaning } from '../model/policy-meaning.ts';
import {
  CALICO_GLOBAL_NETWORK_SET,
  CALICO_GLOBAL_POLICY,
  CALICO_NETWORK_SET,
  CALICO_POLICY,
  CILIUM_CIDR_GROUP,
  CILIUM_CLUSTERWIDE_POLICY,
  CILIUM_POLICY,
  type KubeObject,
  type Labels,
} from '../vocabulary.ts';

const NAMESPACED = [CILIUM_POLICY, CALICO_POLICY] as const;
const CLUSTERWIDE = [CILIUM_CLUSTERWIDE_POLICY, CALICO_GLOBAL_POLICY] as const;
/** Lists a dialect meaning reads: when one changes, the meanings (and the index) are rebuilt. */
const SETS = [CILIUM_CIDR_GROUP, CALICO_NETWORK_SET, CALICO_GLOBAL_NETWORK_SET] as const;

function reaches(namespaces: NamespaceSet, name: string, labels: Labels): boolean {
  if (namespaces.kind === 'every') return true;
  if (namespaces.kind === 'named') return namespaces.names.includes(name);
  return labelSetMatches(namespaces.labels, labels);
}

/** The dialect policies that reach one namespace, and the lists (and policy) they were read from. */
interface Reaching {
  readonly dependencies: readonly unknown[];
  readonly meanings: readonly PolicyMeaning[];
  /** Those that select every pod of the namespace. */
  readonly wide: readonly PolicyMeaning[];
}

const reachingMemo = new WeakMap<object, Map<string, Reaching>>();
const indexMemo = new WeakMap<readonly NetworkPolicy[], Map<string, Memo>>();

interface Memo {
  readonly reaching: Reaching | undefined;
  readonly index: NamespaceIndex;
}

/** The meanings of the dialect policies of `kind` (each object once, memoised as it was cached). */
function meaningsOf(
  kind: string,
  objects: readonly KubeObject[] | undefined,
  ctx: EvaluationContext,
): readonly PolicyMeaning[] {
  const limits = ctx.policy.networkPolicies.limits;
  return (objects ?? []).flatMap((object) =>
    !withinLimits(kind, object, limits)
      ? []
      : (meaningsOfDialect(kind, gvkOfObject(object).version, object, (each, namespace) =>
          ctx.cluster.dialectObjects?.(each, namespace),
        ) ?? []),
  );
}

/**
 * Every dialect policy that may select pods of `namespace`: its namespaced Cilium and Calico
 * policies, and the clusterwide ones whose subject reaches it. Policies past NP013's limits are
 * never compiled. Read once per namespace until a list it reads, the namespace or the policy
 * changes (the caches replace a list when it changes), so a review does not compile them again.
 */
function reachingPolicies(ctx: EvaluationContext, namespace: string): Reaching | undefined {
  const cached = ctx.cluster.dialectObjects;
  if (cached === undefined) return undefined;
  const namespaced = NAMESPACED.map((kind) => cached(kind, namespace));
  const clusterwide = CLUSTERWIDE.map((kind) => cached(kind));
  if ([...namespaced, ...clusterwide].every((list) => list === undefined || list.length === 0))
    return undefined;
  const dependencies = [
    ...namespaced,
    ...clusterwide,
    ...SETS.map((kind) => cached(kind)),
    ctx.cluster.namespace(namespace),
    ctx.policy,
  ];
  let byNamespace = reachingMemo.get(ctx.cluster);
  if (byNamespace === undefined) reachingMemo.set(ctx.cluster, (byNamespace = new Map()));
  const known = byNamespace.get(namespace);
  if (known?.dependencies.every((each, index) => each === dependencies[index])) return known;
  const labels = ctx.cluster.namespace(namespace)?.labels ?? {
    'kubernetes.io/metadata.name': namespace,
  };
  const meanings = [
    ...NAMESPACED.flatMap((kind, at) => meaningsOf(kind, namespaced[at], ctx)),
    ...CLUSTERWIDE.flatMap((kind, at) => meaningsOf(kind, clusterwide[at], ctx)).filter((meaning) =>
      reaches(meaning.subject.namespaces, namespace, labels),
    ),
  ];
  const reaching: Reaching = {
    dependencies,
    meanings,
    wide: meanings.filter((meaning) => meaning.subject.pods.requirements.length === 0),
  };
  byNamespace.set(namespace, reaching);
  return reaching;
}

/** The index NP008 and NP012 read: every policy of any dialect that may select pods of `namespace`. */
export function neighbourIndex(ctx: EvaluationContext, namespace: string): NamespaceIndex {
  const policies = ctx.cluster.networkPolicies(namespace);
  const reaching = reachingPolicies(ctx, namespace);
  if (reaching === undefined) return namespaceIndex(policies);
  let byNamespace = indexMemo.get(policies);
  if (byNamespace === undefined) indexMemo.set(policies, (byNamespace = new Map()));
  const known = byNamespace.get(namespace);
  if (known?.reaching === reaching) return known.index;
  const index = indexOfMeanings([...policies.map(meaningOf), ...reaching.meanings]);
  byNamespace.set(namespace, { reaching, index });
  return index;
}

/** The dialect policies (Cilium, Calico, namespaced or clusterwide) that may select pods of `namespace`. */
export const dialectPoliciesReaching = (
  ctx: EvaluationContext,
  namespace: string,
): readonly PolicyMeaning[] => reachingPolicies(ctx, namespace)?.meanings ?? [];

/**
 * Those of them that select every pod of `namespace`: what NP001 reads besides the namespace's
 * own NetworkPolicies when it asks whether DNS is allowed.
 */
export const namespaceWideDialectPolicies = (
  ctx: EvaluationContext,
  namespace: string,
): readonly PolicyMeaning[] => reachingPolicies(ctx, namespace)?.wide ?? [];
