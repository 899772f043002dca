import type { Rule } from '../engine/types.ts';
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
import { npSizeBound } from './np-size-bound.ts';
import { nsBaseline } from './ns-baseline.ts';
import { nsBaselineRemoval } from './ns-baseline-removal.ts';
import { nsEnvironmentDowngrade } from './ns-environment-downgrade.ts';
import { podHostNetwork } from './pod-host-network.ts';
import { podLabelValues } from './pod-label-values.ts';
import { podRequiredLabels } from './pod-required-labels.ts';
import {
  allowAllInMeaning,
  anyNamespaceInMeaning,
  dnsEgressInMeaning,
  dnsVisibilityInMeaning,
  portsRequiredInMeaning,
  withDialects,
  worldEgressInMeaning,
  worldIngressInMeaning,
} from './dialect-judgement.ts';
import { npPlatformOnly } from './np-platform-only.ts';

/**
 * The guardrails: every rule that judges workloads, NetworkPolicies and Namespaces, in the order
 * docs and messages list them. A new guardrail is one file plus one line here. The EX rules,
 * which guard the waivers of these, are added in registry.ts (EX003 reads this list).
 */
export const GUARDRAIL_RULES: readonly Rule[] = [
  podRequiredLabels,
  podLabelValues,
  podHostNetwork,
  withDialects(npDnsEgress, (meaning, target, ctx) => [
    ...dnsEgressInMeaning(meaning, target, ctx),
    ...dnsVisibilityInMeaning(meaning, target, ctx),
  ]),
  withDialects(npAllowAll, allowAllInMeaning),
  withDialects(npAnyNamespace, anyNamespaceInMeaning),
  withDialects(npWorldEgress, worldEgressInMeaning, { sets: true }),
  npPodIpIpBlock,
  npEphemeralSelector,
  npAndOrConfusion,
  withDialects(npPortsRequired, portsRequiredInMeaning),
  npExplicitPolicyTypes,
  npIntentSelector,
  npBaselineTamper,
  withDialects(npWorldIngress, worldIngressInMeaning, { sets: true }),
  npSizeBound,
  npPlatformOnly,
  nsBaseline,
  nsBaselineRemoval,
  nsEnvironmentDowngrade,
];

export const GUARDRAILS_BY_ID: ReadonlyMap<string, Rule> = new Map(
  GUARDRAIL_RULES.map((rule) => [rule.id, rule]),
);
