import { atLeastAsStrict, type EnvironmentResolution } from '../config/environment.ts';
import type { Environment } from '../config/policy.ts';
import { effectiveEnvironment } from '../engine/environment.ts';
import { ENVIRONMENT_LABEL } from '../vocabulary.ts';
import { namespaceInfoOf } from '../labels.ts';
import { keyPath } from '../object-access.ts';
import type { RawFinding, Rule } from '../engine/types.ts';

const LABEL_PATH = keyPath('metadata.labels', ENVIRONMENT_LABEL);
const named = (env: Environment): string => `${env.name} (${env.mode})`;

/** A weaker label without an approved NS003 waiver: admitted, ignored, and said so (never a denial). */
function ignoredLabel(resolved: EnvironmentResolution, namespace: string): RawFinding[] {
  const label = resolved.ignoredLabel;
  if (label === undefined) return [];
  return [
    {
      path: LABEL_PATH,
      message: `${ENVIRONMENT_LABEL}=${label.name} is ignored: it names ${named(label)}, weaker than ${named(resolved.base)}, so the namespace is judged and baselined in ${resolved.base.name}.`,
      fix: `Remove the label, or have an exception for NS003 naming the namespace approved (netguard exception request -n netguard-system --rule NS003 --target namespace/${namespace} --reason "...").`,
      advisory: true,
    },
  ];
}

export const nsEnvironmentDowngrade: Rule = {
  id: 'NS003',
  name: 'environment-downgrade',
  kinds: ['Namespace'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'change',
  doc: {
    checks: `A namespace is judged in the stricter of the environment its label \`${ENVIRONMENT_LABEL}\` names and the one its selector, name patterns or the default give. A weaker label counts only under an approved exception for NS003 naming the namespace; otherwise it is ignored with a warning (CREATE and UPDATE, never a denial). An UPDATE whose labels (those an environment's selector reads, or the label under a waiver) move the namespace to a weaker environment (lower mode, then longer exceptionMaxDuration, then a rule at a lower level) is judged in the environment the namespace was in. When the waiver expires, the namespace is judged in its own environment again.`,
    prevents:
      'Escaping enforcement by relabelling: one label moves a production namespace to observe, where every guardrail only warns.',
    fix: "Keep the namespace in its environment. Which namespaces belong where is the platform team's decision in policies/guardrails.yaml; for a temporary move, request an exception for NS003 naming the namespace.",
    fires: `# UPDATE of prod-payments (production, enforce)
apiVersion: v1
kind: Namespace
metadata:
  name: prod-payments
  labels: {${ENVIRONMENT_LABEL}: development}
`,
    passes: `# UPDATE of prod-payments that keeps it in production
apiVersion: v1
kind: Namespace
metadata:
  name: prod-payments
  labels: {team: payments}
`,
  },
  check(target, ctx) {
    const resolved = effectiveEnvironment(
      { ...namespaceInfoOf(target.object), name: target.name },
      ctx,
    );
    const findings = ignoredLabel(resolved, target.name);
    const before = target.environment;
    const after = resolved.environment;
    if (target.input.operation !== 'UPDATE' || atLeastAsStrict(ctx.policy, after, before))
      return findings;
    const oldLabels = target.namespace.labels;
    const newLabels = namespaceInfoOf(target.object).labels;
    const path =
      oldLabels[ENVIRONMENT_LABEL] !== newLabels[ENVIRONMENT_LABEL]
        ? LABEL_PATH
        : 'metadata.labels';
    return [
      ...findings,
      {
        path,
        message: `these labels move the namespace from environment ${named(before)} to ${named(after)}, a weaker one, so its guardrails would stop being enforced.`,
        fix: `Keep the namespace in ${before.name}; moving namespaces between environments is the platform team's change in the GuardrailPolicy, or request an exception for NS003.`,
      },
    ];
  },
};
