/**
 * The policy dialects `reach` models, read from their one compiled meaning (src/model/dialects):
 * CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy at L3/L4, and ClusterNetworkPolicy
 * (AdminNetworkPolicy, BaselineAdminNetworkPolicy) with their tiers. Calico policies are not
 * modelled: each one becomes a note naming it and the workloads it selects.
 */
import { labelSetMatches } from '../model/label-set.ts';
import { meaningsOfDialect } from '../model/dialects/meanings.ts';
import { gvkOfObject, judgedKindOf } from '../model/dialects/gvk.ts';
import { isCalicoPolicyKind } from '../model/dialects/calico.ts';
import { isClusterNetworkPolicyKind } from '../model/dialects/cluster-network-policy.ts';
import type { NamespaceSet, PodSet, PolicyMeaning } from '../model/policy-meaning.ts';
import { NAMESPACE_NAME_LABEL } from '../semantics/selectors.ts';
import {
  CALICO_GLOBAL_NETWORK_SET,
  CALICO_NETWORK_SET,
  CILIUM_CIDR_GROUP,
  CILIUM_CLUSTERWIDE_POLICY,
  CILIUM_POLICY,
  type KubeObject,
  type Labels,
} from '../vocabulary.ts';
import type { CompiledPolicy } from './model.ts';
import { matchesAll, ruleSpec } from './policy.ts';

/** A policy reach reads but does not (wholly) model, and which pods it selects: answers about them may be wrong. */
export interface UnmodelledPolicy {
  /** `NetworkPolicy.projectcalico.org shop/allow-web`. */
  readonly policy: string;
  /** What reach leaves out, for people. */
  readonly reason: string;
  /** Whether it selects a pod with these labels in a namespace with these labels. */
  readonly selects: (podLabels: Labels, namespace: string, namespaceLabels: Labels) => boolean;
}

export interface DialectPolicies {
  readonly policies: CompiledPolicy[];
  readonly unmodelled: UnmodelledPolicy[];
}

const isCiliumPolicyKind = (kind: string): boolean =>
  kind === CILIUM_POLICY || kind === CILIUM_CLUSTERWIDE_POLICY;

/** Whether reach reads this object as a policy of another dialect (or a CIDR group or network set). */
export function isDialectObject(object: KubeObject): boolean {
  const kind = judgedKindOf(gvkOfObject(object));
  return (
    isCiliumPolicyKind(kind) ||
    isClusterNetworkPolicyKind(kind) ||
    isCalicoPolicyKind(kind) ||
    kind === CILIUM_CIDR_GROUP ||
    kind === CALICO_NETWORK_SET ||
    kind === CALICO_GLOBAL_NETWORK_SET
  );
}

function namespaceMatcher(set: NamespaceSet): (labels: Labels) => boolean {
  switch (set.kind) {
    case 'every':
      return matchesAll;
    case 'named':
      return (labels) => set.names.includes(labels[NAMESPACE_NAME_LABEL] ?? '');
    case 'labelled':
      return (labels) => labelSetMatches(set.labels, labels);
  }
}

function subjectMatcher(subject: PodSet): UnmodelledPolicy['selects'] {
  const inNamespace = namespaceMatcher(subject.namespaces);
  return (podLabels, _namespace, namespaceLabels) =>
    inNamespace(namespaceLabels) && labelSetMatches(subject.pods, podLabels);
}

const shownName = (meaning: PolicyMeaning): string =>
  `${meaning.source.kind} ${meaning.source.namespace === undefined ? '' : `${meaning.source.namespace}/`}${meaning.source.name}`;

function compiled(meaning: PolicyMeaning): CompiledPolicy {
  const own = meaning.source.namespace ?? '';
  const cilium = meaning.source.group === 'cilium.io';
  const pods = meaning.subject.pods;
  const rules = (direction: 'ingress' | 'egress') =>
    (meaning[direction]?.grants ?? []).map((grant) =>
      ruleSpec(grant, own, cilium ? { outsideOnly: true } : {}),
    );
  const isolates = (direction: 'ingress' | 'egress'): boolean => {
    const side = meaning[direction];
    return side !== undefined && side.isolates !== false;
  };
  return {
    namespace: own,
    name: `${meaning.source.kind}/${meaning.source.name}`,
    selects:
      pods.requirements.length === 0 ? matchesAll : (labels) => labelSetMatches(pods, labels),
    inNamespace: namespaceMatcher(meaning.subject.namespaces),
    isolatesIngress: isolates('ingress'),
    isolatesEgress: isolates('egress'),
    ingress: rules('ingress'),
    egress: rules('egress'),
    dialect: cilium ? 'cilium' : 'cluster-network-policy',
    ...(meaning.tier === undefined ? {} : { tier: meaning.tier }),
  };
}

/**
 * The dialect policies among `objects`, compiled for reach; CIDR groups come from the input too
 * (a reference to a group the input lacks names no address).
 */
export function dialectPolicies(objects: readonly KubeObject[]): DialectPolicies {
  const byKind = new Map<string, KubeObject[]>();
  for (const object of objects) {
    const kind = judgedKindOf(gvkOfObject(object));
    const list = byKind.get(kind);
    if (list === undefined) byKind.set(kind, [object]);
    else list.push(object);
  }
  const lookup = (kind: string): readonly KubeObject[] => byKind.get(kind) ?? [];
  const policies: CompiledPolicy[] = [];
  const unmodelled: UnmodelledPolicy[] = [];
  for (const object of objects) {
    const gvk = gvkOfObject(object);
    const kind = judgedKindOf(gvk);
    const modelled = isCiliumPolicyKind(kind) || isClusterNetworkPolicyKind(kind);
    if (!modelled && !isCalicoPolicyKind(kind)) continue;
    const meanings = meaningsOfDialect(kind, gvk.version, object, lookup) ?? [];
    for (const meaning of meanings) {
      const name = shownName(meaning);
      const selects = subjectMatcher(meaning.subject);
      if (!modelled) {
        unmodelled.push({
          policy: name,
          reason: `reach does not model Calico policies (${gvk.group}/${gvk.version}); answers for the pods it selects may be wrong`,
          selects,
        });
        continue;
      }
      if (meaning.nodes === true) {
        unmodelled.push({
          policy: name,
          reason:
            'a Cilium host policy (nodeSelector): it governs nodes, which reach does not model; not applied',
          selects: () => false,
        });
        continue;
      }
      const policy = compiled(meaning);
      policies.push(policy);
      const parts = [...policy.ingress, ...policy.egress].flatMap((rule) => rule.unmodelled ?? []);
      if (parts.length > 0)
        unmodelled.push({
          policy: name,
          reason: `reach matches no address to ${parts.join('; ')}: answers for the pods it selects treat those peers as naming no address`,
          selects,
        });
    }
  }
  return { policies, unmodelled };
}
