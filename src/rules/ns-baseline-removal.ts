import { stringMap } from '../labels.ts';
import {
  ALLOW_DNS_ANNOTATION,
  BASELINE_ANNOTATION,
  DEFAULT_DENY_ANNOTATION,
} from '../vocabulary.ts';
import { field, keyPath } from '../object-access.ts';
import type { RawFinding, Rule, RuleTarget } from '../engine/types.ts';
import { deniedTypes } from '../model/baseline-policies.ts';
import { baselineAnnotations, policyTypesOf } from '../model/baseline-annotations.ts';

const FIX =
  'Restore the annotation, or request an exception for NS002 if this namespace must run without its baseline.';
const CREATE_FIX =
  'Leave the baseline annotations out (netguard sets them for the environment), or request an exception for NS002 naming the namespace.';

/** UPDATE: removing or weakening an annotation the namespace had. */
function judgeUpdate(target: RuleTarget): RawFinding[] {
  const before = stringMap(field(target.input.oldObject, 'metadata', 'annotations'));
  const after = stringMap(field(target.object, 'metadata', 'annotations'));
  const findings: RawFinding[] = [];
  for (const key of [DEFAULT_DENY_ANNOTATION, ALLOW_DNS_ANNOTATION, BASELINE_ANNOTATION]) {
    const old = before[key];
    if (old === undefined) continue;
    const path = keyPath('metadata.annotations', key);
    const now = after[key];
    if (now === undefined) {
      // Replacing the observe marker with a real default-deny is a step up, not a removal.
      if (key === BASELINE_ANNOTATION && deniedTypes(after[DEFAULT_DENY_ANNOTATION]).length > 0)
        continue;
      findings.push({
        path,
        message: `removing ${key} (${JSON.stringify(old)}) deletes this namespace's baseline NetworkPolicies.`,
        fix: FIX,
      });
      continue;
    }
    if (key === DEFAULT_DENY_ANNOTATION) {
      const kept = policyTypesOf(now);
      const lost = [...policyTypesOf(old)].filter((type) => !kept.has(type));
      if (lost.length > 0) {
        findings.push({
          path,
          message: `changing ${key} from ${JSON.stringify(old)} to ${JSON.stringify(now)} drops default-deny for ${lost.join(', ')}.`,
          fix: FIX,
        });
      }
    } else if (key === ALLOW_DNS_ANNOTATION && old === 'true' && now !== 'true') {
      findings.push({
        path,
        message: `changing ${key} from "true" to ${JSON.stringify(now)} removes the DNS allow policy, so lookups will fail under default-deny egress.`,
        fix: FIX,
      });
    }
  }
  return findings;
}

/** CREATE: values the user set are kept only when at least as strict as the environment's baseline. */
function judgeCreate(target: RuleTarget): RawFinding[] {
  const set = stringMap(field(target.object, 'metadata', 'annotations'));
  const { environment } = target;
  const wanted = baselineAnnotations(environment.mode);
  const where = `environment ${environment.name} (${environment.mode})`;
  const findings: RawFinding[] = [];
  const denyValue = set[DEFAULT_DENY_ANNOTATION];
  if (denyValue !== undefined) {
    const path = keyPath('metadata.annotations', DEFAULT_DENY_ANNOTATION);
    const words = [...policyTypesOf(denyValue)];
    const valid = deniedTypes(denyValue);
    const missing = deniedTypes(wanted[DEFAULT_DENY_ANNOTATION]).filter(
      (type) => !valid.includes(type),
    );
    if (words.length === 0 || valid.length < words.length) {
      findings.push({
        path,
        message: `${JSON.stringify(denyValue)} is not a list of policy types (Ingress, Egress), so this namespace would start without the default-deny of ${where}.`,
        fix: CREATE_FIX,
      });
    } else if (missing.length > 0) {
      findings.push({
        path,
        message: `${JSON.stringify(denyValue)} leaves out default-deny for ${missing.join(', ')}, which ${where} gives every new namespace.`,
        fix: CREATE_FIX,
      });
    }
  }
  const dnsValue = set[ALLOW_DNS_ANNOTATION];
  if (dnsValue !== undefined && dnsValue !== 'true') {
    findings.push({
      path: keyPath('metadata.annotations', ALLOW_DNS_ANNOTATION),
      message: `${JSON.stringify(dnsValue)} withholds the DNS allow policy that ${where} gives every new namespace, so lookups fail under default-deny egress.`,
      fix: CREATE_FIX,
    });
  }
  const marker = set[BASELINE_ANNOTATION];
  if (
    marker !== undefined &&
    marker !== wanted[BASELINE_ANNOTATION] &&
    environment.mode === 'observe' &&
    denyValue === undefined
  ) {
    findings.push({
      path: keyPath('metadata.annotations', BASELINE_ANNOTATION),
      message: `${JSON.stringify(marker)} is not a baseline netguard knows; ${where} marks new namespaces with "observe".`,
      fix: CREATE_FIX,
    });
  }
  return findings;
}

export const nsBaselineRemoval: Rule = {
  id: 'NS002',
  name: 'baseline-removal',
  kinds: ['Namespace'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'change',
  doc: {
    checks:
      'A Namespace UPDATE does not remove the baseline annotations (`netguard.dev/default-deny`, `netguard.dev/allow-dns`, `netguard.dev/baseline`) or weaken them (fewer policy types in default-deny, allow-dns no longer "true"); it is judged in the environment the namespace was in before the update, so relabelling in the same change does not soften it. Replacing the observe marker with a default-deny is a step up, not a removal. On CREATE, baseline values the user sets must be at least as strict as the environment\'s (`none`, `false` or fewer policy types are NS002), unless an approved exception for NS002 names the namespace.',
    prevents:
      "Quietly lifting a namespace's isolation: the controller deletes the baseline NetworkPolicies as soon as the annotation goes, and a namespace created with `default-deny: none` never gets them.",
    fix: 'Keep the annotations (or leave them out on create: netguard sets them). To run a namespace without the baseline, request an exception for NS002 naming the namespace.',
    fires: `# UPDATE of a namespace that had netguard.dev/default-deny: "Ingress,Egress"
apiVersion: v1
kind: Namespace
metadata:
  name: prod-payments
  annotations: {netguard.dev/default-deny: "Ingress", netguard.dev/allow-dns: "true"}
`,
    passes: `apiVersion: v1
kind: Namespace
metadata:
  name: prod-payments
  labels: {team: payments}
  annotations: {netguard.dev/default-deny: "Ingress,Egress", netguard.dev/allow-dns: "true"}
`,
  },
  check(target) {
    return target.input.operation === 'CREATE' ? judgeCreate(target) : judgeUpdate(target);
  },
};
