/**
 * What the webhook would say to a GuardrailException before anyone applies it: `exception request`
 * without --apply judges the printed waiver with the same engine and policy, so a waiver that
 * EX001 (too long, past date) or EX002 (no owner) would refuse is said to be refused now.
 */
import { staticClusterView } from '../engine/cluster-view.ts';
import { validate } from '../engine/evaluate.ts';
import type { AdmissionInput } from '../engine/types.ts';
import type { KubeObject } from '../vocabulary.ts';
import { loadWorld } from '../world.ts';

// EX003/EX004 depend on who applies it and on the mutating webhook (requestedBy): not judged here.
const JUDGED_HERE: ReadonlySet<string> = new Set(['EX001', 'EX002']);

/** One line per finding the webhook would deny the waiver for, with rule ID and field. */
export function requestRefusals(
  object: KubeObject,
  namespace: string,
  policyPath: string,
  now: Date,
): string[] {
  // No exceptions file is a source: a waiver is judged on its own, never waived.
  const world = loadWorld({ config: policyPath });
  const input: AdmissionInput = {
    uid: 'request-preview',
    kind: 'GuardrailException',
    operation: 'CREATE',
    namespace,
    name: String((object['metadata'] as { name?: unknown } | undefined)?.name ?? ''),
    object,
    oldObject: undefined,
    // Created by someone with no special standing, as `--apply` by a developer would be.
    user: { username: 'preview', groups: ['system:authenticated'] },
    dryRun: true,
  };
  const decision = validate(input, world.context(now, staticClusterView([])));
  return decision.findings
    .filter((finding) => finding.level === 'deny' && JUDGED_HERE.has(finding.rule))
    .map(
      (finding) =>
        `${finding.rule} ${finding.name} at ${finding.path}: ${finding.message} ${finding.fix}`,
    );
}
