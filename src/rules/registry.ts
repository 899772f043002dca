import type { Operation, Rule } from '../engine/types.ts';
import { npDnsEgress } from './np-dns-egress.ts';
import { npAllowAll } from './np-allow-all.ts';
import { npAnyNamespace } from './np-any-namespace.ts';
import { npWorldEgress } from './np-world-egress.ts';
import { npPodIpIpBlock } from './np-pod-ip-ipblock.ts';
import { npEphemeralSelector } from './np-ephemeral-selector.ts';
import { npAndOrConfusion } from './np-and-or-confusion.ts';
import { npPortsRequired } from './np-ports-required.ts';
import { npExplicitPolicyTypes } from './np-explicit-policy-types.ts';
import { npIntentSelector } from './np-intent-selector.ts';
import { npBaselineTamper } from './np-baseline-tamper.ts';
import { npWorldIngress } from './np-world-ingress.ts';
import { exExpiry } from './ex-expiry.ts';
import { exOwnership } from './ex-ownership.ts';
import { exScope } from './ex-scope.ts';
import { exApproval } from './ex-approval.ts';
import { nsBaseline } from './ns-baseline.ts';
import { nsBaselineRemoval } from './ns-baseline-removal.ts';
import { nsEnvironmentDowngrade } from './ns-environment-downgrade.ts';
import { podHostNetwork } from './pod-host-network.ts';
import { podLabelValues } from './pod-label-values.ts';
import { podRequiredLabels } from './pod-required-labels.ts';

/** Every rule netguard knows, in the order docs and messages list them. A new rule is one file plus one line here. */
export const RULES: readonly Rule[] = [
  podRequiredLabels,
  podLabelValues,
  podHostNetwork,
  npDnsEgress,
  npAllowAll,
  npAnyNamespace,
  npWorldEgress,
  npPodIpIpBlock,
  npEphemeralSelector,
  npAndOrConfusion,
  npPortsRequired,
  npExplicitPolicyTypes,
  npIntentSelector,
  npBaselineTamper,
  npWorldIngress,
  nsBaseline,
  nsBaselineRemoval,
  nsEnvironmentDowngrade,
  exExpiry,
  exOwnership,
  exScope,
  exApproval,
];

export const RULES_BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((rule) => [rule.id, rule]));

const byKindAndOperation = new Map<string, Rule[]>();
for (const rule of RULES) {
  for (const kind of rule.kinds) {
    for (const operation of rule.operations) {
      const key = `${kind}/${operation}`;
      byKindAndOperation.set(key, [...(byKindAndOperation.get(key) ?? []), rule]);
    }
  }
}

/** The rules that judge this kind on this operation, looked up once per request. */
export function rulesFor(kind: string, operation: Operation): readonly Rule[] {
  return byKindAndOperation.get(`${kind}/${operation}`) ?? [];
}
