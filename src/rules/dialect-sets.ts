/**
 * A write of a set a dialect policy's peers name (Calico NetworkSet and GlobalNetworkSet,
 * CiliumCIDRGroup) is judged as part of every cached policy whose selector or reference matches it
 * (DESIGN "Policy dialects": "re-judged when it changes"): each such policy is compiled with the
 * written version of the set in place of the cached one, and judged on the peers the set supplies.
 */
import type { EvaluationContext, RuleTarget } from '../engine/types.ts';
import { gvkOfObject } from '../model/dialects/gvk.ts';
import { compileDialect } from '../model/dialects/meanings.ts';
import { withinLimits } from '../model/dialects/size.ts';
import { setKey, type Grant, type PolicyMeaning } from '../model/policy-meaning.ts';
import { stringField } from '../object-access.ts';
import {
  CALICO_GLOBAL_NETWORK_SET,
  CALICO_GLOBAL_POLICY,
  CALICO_NETWORK_SET,
  CALICO_POLICY,
  CILIUM_CIDR_GROUP,
  CILIUM_CLUSTERWIDE_POLICY,
  CILIUM_POLICY,
  type KubeObject,
} from '../vocabulary.ts';

/** The set kinds, each with the policy kinds whose peers may name it. */
const NAMED_BY: Readonly<Record<string, readonly string[]>> = {
  [CALICO_NETWORK_SET]: [CALICO_POLICY, CALICO_GLOBAL_POLICY],
  [CALICO_GLOBAL_NETWORK_SET]: [CALICO_POLICY, CALICO_GLOBAL_POLICY],
  [CILIUM_CIDR_GROUP]: [CILIUM_POLICY, CILIUM_CLUSTERWIDE_POLICY],
};

export const SET_KINDS: readonly string[] = Object.keys(NAMED_BY);

/** Where a set holds its addresses: the path a finding about a set write names. */
export const setAddressesPath = (kind: string): string =>
  kind === CILIUM_CIDR_GROUP ? 'spec.externalCIDRs' : 'spec.nets';

/** A policy that names the written set, reduced to the peers the set supplies. */
export interface ThroughSet {
  /** `NetworkPolicy.projectcalico.org prod-x/to-external`, as a message names it. */
  readonly policy: string;
  readonly meaning: PolicyMeaning;
}

const sameObject = (a: KubeObject, b: KubeObject): boolean =>
  stringField(a, 'metadata', 'name') === stringField(b, 'metadata', 'name') &&
  stringField(a, 'metadata', 'namespace') === stringField(b, 'metadata', 'namespace');

/** The grants of a direction, each reduced to the peers whose addresses come from `key`. */
function through(grants: readonly Grant[] | undefined, key: string): Grant[] {
  return (grants ?? []).flatMap((grant) => {
    const peers = grant.peers.filter(
      (peer) => peer.kind === 'addresses' && (peer.sources ?? []).includes(key),
    );
    return peers.length === 0 ? [] : [{ ...grant, peers }];
  });
}

/**
 * The cached policies that name the reviewed set, with the written set in place. Offline (`check`,
 * `audit`) there is no write: the policies themselves are judged with the sets given.
 */
export function policiesThroughSet(target: RuleTarget, ctx: EvaluationContext): ThroughSet[] {
  const kinds = NAMED_BY[target.kind];
  const cached = ctx.cluster.dialectObjects;
  if (kinds === undefined || cached === undefined || target.input.offline === true) return [];
  const written = target.object;
  const namespace = stringField(written, 'metadata', 'namespace');
  const key = setKey(target.kind, namespace, stringField(written, 'metadata', 'name'));
  const sets = [
    ...(cached(target.kind) ?? []).filter((object) => !sameObject(object, written)),
    written,
  ];
  const objects = (kind: string, namespace?: string) =>
    kind === target.kind ? sets : cached(kind, namespace);
  const out: ThroughSet[] = [];
  for (const kind of kinds)
    for (const policy of (cached(kind) ?? []).filter((each) =>
      withinLimits(kind, each, ctx.policy.networkPolicies.limits),
    ))
      for (const meaning of compileDialect(kind, gvkOfObject(policy).version, policy, objects) ??
        []) {
        const ingress = through(meaning.ingress?.grants, key);
        const egress = through(meaning.egress?.grants, key);
        if (ingress.length === 0 && egress.length === 0) continue;
        const { namespace: where, name } = meaning.source;
        out.push({
          policy: `${kind} ${where === undefined ? name : `${where}/${name}`}`,
          meaning: {
            ...meaning,
            ingress: meaning.ingress === undefined ? undefined : { grants: ingress },
            egress: meaning.egress === undefined ? undefined : { grants: egress },
          },
        });
      }
  return out;
}
