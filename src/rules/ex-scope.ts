import type { Rule } from '../engine/types.ts';
import { scopeFindings } from '../exceptions/scope-checks.ts';
import { GUARDRAILS_BY_ID } from './guardrails.ts';

// The check itself lives with the waivers (exceptions/scope-checks.ts): every source passes it.
export const exScope: Rule = {
  id: 'EX003',
  name: 'exception-scope',
  kinds: ['GuardrailException'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'deny', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: {
    checks:
      '`spec.rules` lists known rule IDs (not EX rules, which guard the waivers); `spec.target` has a kind spelled exactly as Kubernetes spells it (`Namespace`, not `namespace`) that those rules judge, and either a name or, for workloads and Pods, a label selector with an equality requirement (`matchLabels` or `In`; `NotIn`, `DoesNotExist` and `Exists` alone would cover every unlabelled object). Namespace waivers live in netguard-system; all others in the namespace of what they cover. Waivers from the exceptions file pass the same check.',
    prevents:
      'Waivers that cover more than was reviewed: every rule, every object in a namespace, or a kind the rule never judges (a waiver that silently does nothing).',
    fix: 'Name the rules and the object: `--rule NP004 --target networkpolicy/crawler-egress`, or `--target deployment --selector app=crawler`.',
    fires: `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: everything, namespace: prod-crawl}
spec:
  rules: ["*"]
  target: {kind: Deployment, selector: {}}
  reason: Migration
  owner: team-crawl@example.com
  expires: "2026-12-06T00:00:00Z"
`,
    passes: `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: crawler-labels, namespace: prod-crawl}
spec:
  rules: [POD002]
  target: {kind: Deployment, selector: {matchLabels: {app: crawler}}}
  reason: The tier taxonomy gains "batch" in the Q1 policy release
  owner: team-crawl@example.com
  expires: "2026-12-06T00:00:00Z"
`,
  },
  check(target) {
    return target.view.exception === undefined
      ? []
      : scopeFindings(target.view.exception, target.namespace.name, GUARDRAILS_BY_ID);
  },
};
