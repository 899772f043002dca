import { RULES_BY_ID } from '../../src/rules/registry.ts';
import { readFileSync } from 'node:fs';
import { parsePolicy } from '../../src/config/load.ts';
import type { Policy } from '../../src/config/policy.ts';
import { NO_WAIVERS, staticClusterView } from '../../src/engine/cluster-view.ts';
import type { EvaluationContext, WaiverView } from '../../src/engine/types.ts';
import { RULE_SET } from '../../src/rules/registry.ts';
import type { KubeObject } from '../../src/vocabulary.ts';

export const SHIPPED_POLICY = 'policies/guardrails.yaml';

/** The clock `contextFor` gives unless a test brings its own. */
export const TEST_CLOCK = new Date('2026-11-22T12:00:00Z');

export function shippedPolicy(): Policy {
  return parsePolicy(readFileSync(SHIPPED_POLICY, 'utf8'), SHIPPED_POLICY, RULES_BY_ID);
}

/**
 * The shipped policy with an approved egress range (160.79.104.0/23) and kind's pod and service
 * ranges written down: what tests of NP001, NP004 and NP005 judge against. The shipped policy
 * approves nothing and reads the cluster ranges from the cluster.
 */
export const LAB_POLICY = 'test/fixtures/policies/lab.yaml';

export function labPolicy(): Policy {
  return parsePolicy(readFileSync(LAB_POLICY, 'utf8'), LAB_POLICY, RULES_BY_ID);
}

/** An engine context over in-memory objects, as `check` and the caches give it. */
export function contextFor(
  options: {
    policy?: Policy;
    objects?: readonly KubeObject[];
    waivers?: WaiverView;
    now?: Date;
  } = {},
): EvaluationContext {
  return {
    policy: options.policy ?? labPolicy(),
    rules: RULE_SET,
    cluster: staticClusterView(options.objects ?? []),
    waivers: options.waivers ?? NO_WAIVERS,
    now: options.now ?? TEST_CLOCK,
  };
}
