import type { Rule } from '../engine/types.ts';
import { ownershipFindings } from '../exceptions/ownership-checks.ts';

// The check itself lives with the waivers (exceptions/ownership-checks.ts): every source passes it.
export const exOwnership: Rule = {
  id: 'EX002',
  name: 'exception-ownership',
  kinds: ['GuardrailException'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'deny', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      '`spec.reason` and `spec.owner` are present and not empty (nor a placeholder such as `...` or `TBD`). Requester-written text (reason, owner, ticket, target name) holds no control characters (Unicode Cc: C0, DEL, C1; bidi controls U+202A–U+202E, U+2066–U+2069; a line feed is allowed in the reason), and selector keys and values follow Kubernetes label syntax.',
    prevents:
      'Waivers nobody can explain or answer for: when one expires or causes an incident, someone must know why it exists and who to call.',
    fix: 'Write why the guardrail cannot be met yet (and until when) in `reason`, and a team or person who answers for it in `owner`.',
    fires: `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: crawler-egress, namespace: prod-crawl}
spec:
  rules: [NP004]
  target: {kind: NetworkPolicy, name: crawler-egress}
  reason: "..."
  expires: "2026-12-06T00:00:00Z"
`,
    passes: `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: crawler-egress, namespace: prod-crawl}
spec:
  rules: [NP004]
  target: {kind: NetworkPolicy, name: crawler-egress}
  reason: Vendor API has no fixed addresses until the Q1 migration
  owner: team-crawl@example.com
  expires: "2026-12-06T00:00:00Z"
`,
  },
  check(target) {
    return target.view.exception === undefined ? [] : ownershipFindings(target.view.exception);
  },
};
