import type { EvaluationContext, RawFinding, Rule } from '../engine/types.ts';
import { meaningOf } from '../model/compile-network-policy.ts';
import { jointSelections } from '../model/joint-selection.ts';
import { directionAddresses, grantAddresses } from '../model/meaning-queries.ts';
import {
  describePolicies,
  mayOverlap,
  meaningOfObject,
  sameSource,
} from '../model/namespace-index.ts';
import { neighbourIndex } from './neighbours.ts';
import type { Grant, PolicyMeaning } from '../model/policy-meaning.ts';
import type { SubjectAtom } from '../model/subject.ts';
import { describeInternet, opensInternet } from '../model/public-space.ts';
import { isEmpty, unionAll, type AddressSet } from '../semantics/addresses.ts';
import { privateAddresses } from './configured-addresses.ts';

const FRONTEND = { key: 'tier', value: 'frontend' } as const;
const FIX =
  'Allow only the sources these pods need; if they serve the internet, run them as frontends (select tier: frontend) behind which backends stay private.';

const ingressOf = (meaning: PolicyMeaning): AddressSet => directionAddresses(meaning, 'ingress');

/**
 * Policies add up (DESIGN "Across policies"): for each label set the reviewed subject matches
 * (without tier: frontend), the other policies of any dialect selecting it too. The reviewed
 * policy is what opens the internet when the union with it does and the union without it (on
 * UPDATE: with its old version, `olds`) does not. Returns the policies it combined with.
 */
export function completedBy(
  meaning: PolicyMeaning,
  olds: readonly PolicyMeaning[],
  ctx: EvaluationContext,
  notPublic: AddressSet,
): PolicyMeaning[] | undefined {
  const namespace = meaning.source.namespace;
  if (namespace === undefined) return undefined;
  const index = neighbourIndex(ctx, namespace);
  const others = mayOverlap(index.ingressAddresses, meaning.subject.pods).filter(
    (other) => !sameSource(other, meaning),
  );
  if (others.length === 0) return undefined;
  const own = ingressOf(meaning);
  for (const joint of jointSelections(meaning.subject.pods, others)) {
    if (joint.labels[FRONTEND.key] === FRONTEND.value || joint.others.length === 0) continue;
    const theirs = unionAll(joint.others.map(ingressOf));
    const before = unionAll([theirs, ...olds.map(ingressOf)]);
    if (opensInternet(unionAll([own, theirs]), notPublic) && !opensInternet(before, notPublic))
      return [...joint.others];
  }
  return undefined;
}

/** Whether some label set the podSelector matches lacks tier: frontend. */
const selectsNonFrontend = (meaning: PolicyMeaning): boolean =>
  jointSelections(meaning.subject.pods, []).some(
    (joint) => joint.labels[FRONTEND.key] !== FRONTEND.value,
  );

export const npWorldIngress: Rule = {
  id: 'NP012',
  name: 'world-ingress',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      "No ingress rule opens the internet to pods that are not frontends. An ingress address set opens the internet when the public space it covers exceeds 1/256 of its family's public space (see docs/semantics.md: `0.0.0.0/0`, `0.0.0.0/0 except [RFC 1918]`, `::/0 except [::1/128]`, `0.0.0.0/2`, IPv4-mapped, NAT64 and 6to4 prefixes as the IPv4 they reach; `privateCIDRs` are never public), in one rule, across the policy's ingress rules, or together with other policies of the namespace, of any dialect (NetworkPolicies, Cilium and Calico policies, and clusterwide ones that reach the namespace), that jointly select a label set this podSelector matches (the finding then falls on the policy that completes the union and names the others). Allowed only for label sets with `tier: frontend` (`matchLabels` or `In [frontend]`). A partner's /16 or a CDN's published ranges do not open it. Rules without `from` are NP002's.",
    prevents:
      'Backends and data stores exposed to any address outside the cluster: only frontends should face the internet, and everything behind them should be reachable from the frontends alone.',
    fix: 'List the sources the pods need (the frontends, a load balancer range); select frontends with `tier: frontend` if they serve the internet.',
    fires: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-public, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: api, tier: backend}}
  policyTypes: [Ingress]
  ingress:
    - from: [{ipBlock: {cidr: 0.0.0.0/1}}, {ipBlock: {cidr: 128.0.0.0/1}}]
      ports: [{protocol: TCP, port: 8080}]
`,
    passes: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-public, namespace: prod-shop}
spec:
  podSelector: {matchLabels: {app: web, tier: frontend}}
  policyTypes: [Ingress]
  ingress:
    - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
      ports: [{protocol: TCP, port: 443}]
`,
  },
  check(target, ctx) {
    const policy = target.view.networkPolicy;
    if (policy === undefined) return [];
    const meaning = meaningOf(policy);
    if (meaning.ingress === undefined || !selectsNonFrontend(meaning)) return [];
    const notPublic = privateAddresses(ctx);
    const own = ingressOf(meaning);
    // The internet-facing ingress to these pods, with its ports: one atom per rule naming addresses.
    const subjectOf = (grants: readonly Grant[]): SubjectAtom[] =>
      grants.flatMap((grant) => {
        const addresses = grantAddresses(grant);
        return isEmpty(addresses)
          ? []
          : [
              {
                pods: meaning.subject.pods,
                peer: { kind: 'addresses', path: grant.path, text: '', addresses },
                ports: grant.ports,
              },
            ];
      });
    const everyGrant = subjectOf(meaning.ingress.grants);
    if (!opensInternet(own, notPublic)) {
      const old =
        target.input.operation === 'UPDATE' ? meaningOfObject(target.input.oldObject) : undefined;
      const others = completedBy(
        { ...meaning, source: { ...meaning.source, namespace: target.namespace.name } },
        old === undefined ? [] : [old],
        ctx,
        notPublic,
      );
      if (others === undefined) return [];
      return [
        {
          path: 'spec.ingress',
          subject: everyGrant,
          message: `with ${describePolicies(others)} (which select${others.length === 1 ? 's' : ''} these pods too), these ipBlocks reach the internet, so anyone can connect to pods that are not frontends.`,
          fix: FIX,
        },
      ];
    }
    const grants = meaning.ingress.grants.filter((grant) =>
      opensInternet(grantAddresses(grant), notPublic),
    );
    // Rules each opening the internet are named; otherwise the blocks open it across rules.
    if (grants.length === 0)
      return [
        {
          path: 'spec.ingress',
          subject: everyGrant,
          message: `together, the ingress ipBlocks of this policy reach ${describeInternet(own, notPublic)}, so anyone can connect to pods that are not frontends (tier: frontend).`,
          fix: FIX,
        },
      ];
    return grants.map(
      (grant): RawFinding => ({
        path: `${grant.path}.from`,
        subject: subjectOf([grant]),
        message: `these sources reach ${describeInternet(grantAddresses(grant), notPublic)}, so anyone can connect to pods that are not frontends (tier: frontend).`,
        fix: FIX,
      }),
    );
  },
};
