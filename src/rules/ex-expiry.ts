import { baseEnvironment } from '../config/environment.ts';
import type { Environment } from '../config/policy.ts';
import type { EvaluationContext, RawFinding, Rule, RuleTarget } from '../engine/types.ts';
import type { ExceptionDraft } from '../model/guardrail-exception.ts';

const DAY_MS = 86_400_000;

/** A Namespace waiver lives in netguard-system; its limit is that of the namespace it covers, by selector and name (never its own label). */
function environmentFor(
  target: RuleTarget,
  draft: ExceptionDraft,
  ctx: EvaluationContext,
): Environment {
  if (draft.target?.kind !== 'Namespace') return target.environment;
  const name = typeof draft.target.name === 'string' ? draft.target.name : '';
  if (name === '') return target.environment;
  const namespace = ctx.cluster.namespace(name) ?? {
    name,
    labels: { 'kubernetes.io/metadata.name': name },
    annotations: {},
  };
  return baseEnvironment(ctx.policy, namespace).environment;
}

export const exExpiry: Rule = {
  id: 'EX001',
  name: 'exception-expiry',
  kinds: ['GuardrailException'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'deny', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      '`spec.expires` is present, an RFC 3339 timestamp, in the future, and no further away than the `exceptionMaxDuration` of the environment the waiver covers (shipped: development 90d, staging 30d, production 14d). For a Namespace waiver that is the environment of the named namespace. An approved waiver within `exceptions.warnBefore` of its end also adds an EX001 warning to every object it waives.',
    prevents:
      'Waivers that never end: a temporary exception that quietly becomes the permanent policy.',
    fix: 'Set `spec.expires` to a date within the limit; `netguard exception request --expires 14d` computes it. To keep a waiver longer, have a new one approved when it ends.',
    fires: `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: crawler-egress, namespace: prod-crawl}
spec:
  rules: [NP004]
  target: {kind: NetworkPolicy, name: crawler-egress}
  reason: Vendor API has no fixed addresses until the Q1 migration
  owner: team-crawl@example.com
  expires: "2099-01-01T00:00:00Z"
`,
    passes: `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: crawler-egress, namespace: prod-crawl}
spec:
  rules: [NP004]
  target: {kind: NetworkPolicy, name: crawler-egress}
  reason: Vendor API has no fixed addresses until the Q1 migration
  owner: team-crawl@example.com
  expires: "2026-12-06T00:00:00Z"   # within 14 days of the request
`,
  },
  check(target, ctx): RawFinding[] {
    const draft = target.view.exception;
    if (draft === undefined) return [];
    const environment = environmentFor(target, draft, ctx);
    const limit = `environment ${environment.name} allows at most ${environment.exceptionMaxDuration}`;
    const path = 'spec.expires';
    if (draft.expires.state === 'missing') {
      return [
        {
          path,
          message: 'is missing, and every waiver must expire.',
          fix: `Set an expiry date; ${limit}.`,
        },
      ];
    }
    if (draft.expires.state === 'invalid') {
      return [
        {
          path,
          message: `${JSON.stringify(draft.expires.written)} is not an RFC 3339 timestamp, so nobody can tell when the waiver ends.`,
          fix: 'Write it as "2026-12-06T00:00:00Z".',
        },
      ];
    }
    const expires = draft.expires.text;
    const left = draft.expires.at - ctx.now.getTime();
    if (left <= 0) {
      return [
        {
          path,
          message: `${expires} is not in the future, so the waiver would waive nothing.`,
          fix: `Choose a later date; ${limit}.`,
        },
      ];
    }
    if (left > environment.exceptionMaxDurationMs) {
      const days = Math.ceil(left / DAY_MS);
      return [
        {
          path,
          message: `${expires} is ${days} days away, longer than a waiver may last here.`,
          fix: `Choose a date sooner; ${limit}.`,
        },
      ];
    }
    return [];
  },
};
