import { resolveEnvironment } from '../config/environment.ts';
import { ENVIRONMENT_LABEL } from '../vocabulary.ts';
import { namespaceInfoOf } from '../labels.ts';
import { keyPath } from '../object-access.ts';
import type { Rule } from '../engine/types.ts';
import type { Mode } from '../vocabulary.ts';

const STRENGTH: Readonly<Record<Mode, number>> = { observe: 0, constrain: 1, enforce: 2 };

export const nsEnvironmentDowngrade: Rule = {
  id: 'NS003',
  name: 'environment-downgrade',
  kinds: ['Namespace'],
  operations: ['UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'change',
  doc: {
    checks: `A Namespace UPDATE does not change its labels (\`${ENVIRONMENT_LABEL}\`, or labels an environment's selector reads) so that the namespace resolves to an environment with a weaker mode. Judged in the environment the namespace was in. Moving to a stricter environment is always allowed.`,
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
    const before = target.environment;
    const after = resolveEnvironment(ctx.policy, namespaceInfoOf(target.object));
    if (STRENGTH[after.mode] >= STRENGTH[before.mode]) return [];
    const oldLabels = target.namespace.labels;
    const newLabels = namespaceInfoOf(target.object).labels;
    const path =
      oldLabels[ENVIRONMENT_LABEL] !== newLabels[ENVIRONMENT_LABEL]
        ? keyPath('metadata.labels', ENVIRONMENT_LABEL)
        : 'metadata.labels';
    return [
      {
        path,
        message: `these labels move the namespace from environment ${before.name} (${before.mode}) to ${after.name} (${after.mode}), a weaker mode, so its guardrails would stop being enforced.`,
        fix: `Keep the namespace in ${before.name}; moving namespaces between environments is the platform team's change in the GuardrailPolicy, or request an exception for NS003.`,
      },
    ];
  },
};
