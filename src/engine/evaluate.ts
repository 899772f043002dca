/**
 * The engine's two entry points, pure and synchronous: `validate` (the verdict at /validate, and in
 * `check` and `audit`) and `mutate` (the JSON Patch at /mutate). Both place the review, build one
 * target and pass their findings through the same waiver step.
 */
import { requiredLabelKeys } from '../config/policy.ts';
import { viewOf } from '../rules/object-view.ts';
import { mutatorsFor, rulesFor } from '../rules/registry.ts';
import { denialMessage, warningLines } from './message.ts';
import { isExcludedNamespace, isWrittenByController } from './skips.ts';
import { placementOf, targetOf } from './target.ts';
import { controllerOf, ownerVerified } from './trust.ts';
import type {
  AdmissionInput,
  Decision,
  EvaluationContext,
  Finding,
  JsonPatchOperation,
  Rule,
  RuleTarget,
} from './types.ts';
import { notWidened } from './widening.ts';

export { objectName, namespaceOf } from './target.ts';
export { controllerOf, isControllerIdentity } from './trust.ts';

function runRules(rules: readonly Rule[], target: RuleTarget, ctx: EvaluationContext): Finding[] {
  const findings: Finding[] = [];
  for (const rule of rules) {
    const level = ctx.policy.levelOf(rule, target.environment);
    if (level === 'off') continue;
    for (const raw of rule.check(target, ctx)) {
      findings.push({
        ...raw,
        rule: rule.id,
        name: rule.name,
        level: raw.notJudged === true ? 'warn' : level,
        notes: [],
      });
    }
  }
  return findings;
}

/** The waiver step both entries share: an approved, active, matching waiver turns a deny into a warning. */
function applyWaivers(findings: Finding[], target: RuleTarget, ctx: EvaluationContext): void {
  if (findings.length > 0) ctx.waivers.apply(findings, target, ctx.now);
}

const identity = (finding: Finding): string => `${finding.rule}\u0000${finding.path}`;

/**
 * Expiry ends grandfathering: a finding an expired waiver of this object covered is the object's
 * debt coming due, not an old finding to tolerate, or the waiver would never really expire.
 */
function grandfathered(finding: Finding, lapsedRules: ReadonlySet<string>): boolean {
  return !lapsedRules.has(finding.rule);
}

/**
 * UPDATE: a finding the old object already had is not the change's fault, so it only warns —
 * unless the change widens it (see notWidened): a widened violation is a new one.
 */
function downgradePreExisting(
  findings: Finding[],
  rules: readonly Rule[],
  target: RuleTarget,
  ctx: EvaluationContext,
): void {
  const old = target.input.oldObject;
  if (old === undefined || !findings.some((finding) => finding.level === 'deny')) return;
  const objectRules = rules.filter((rule) => rule.judges === 'object');
  const oldTarget = { ...target, object: old, view: viewOf(target.kind, old) };
  const before = new Set(runRules(objectRules, oldTarget, ctx).map(identity));
  const lapsed = ctx.waivers.lapsedRules(target, ctx.now);
  for (const finding of findings) {
    if (
      finding.level === 'deny' &&
      before.has(identity(finding)) &&
      notWidened(finding.path, oldTarget, target) &&
      grandfathered(finding, lapsed)
    ) {
      finding.level = 'warn';
      finding.notes.push('pre-existing: the object already had this before the update');
    }
  }
}

/** A Pod of a verified controller is judged at its workload: here a deny only warns, so scaling never breaks. */
function downgradeControlledPod(
  findings: Finding[],
  target: RuleTarget,
  ctx: EvaluationContext,
): void {
  if (target.kind !== 'Pod') return;
  const owner = controllerOf(target.object);
  if (owner === undefined || !ownerVerified(target.input, target.namespace.name, owner, ctx))
    return;
  for (const finding of findings) {
    if (finding.level !== 'deny') continue;
    finding.level = 'warn';
    finding.notes.push(`judged at its ${owner.kind} ${owner.name}`);
  }
}

/** /validate: rules → pre-existing → controlled pods → waivers → verdict. */
export function validate(input: AdmissionInput, ctx: EvaluationContext): Decision {
  const placement = placementOf(input, ctx);
  const scope = input.kind === 'Namespace' ? placement.name : input.namespace;
  const base = { kind: input.kind, namespace: input.namespace, name: placement.name };
  if (isExcludedNamespace(input, scope, ctx)) {
    return {
      ...base,
      allowed: true,
      environment: undefined,
      mode: undefined,
      skipped: 'excluded-namespace',
      findings: [],
      message: undefined,
      warnings: [],
    };
  }
  const { environment } = placement;
  const object = input.operation === 'DELETE' ? input.oldObject : input.object;
  const rules =
    object !== undefined && isWrittenByController(input, object, ctx)
      ? []
      : rulesFor(input.kind, input.operation);
  const findings: Finding[] = [];
  if (object !== undefined && rules.length > 0) {
    const target = targetOf(input, object, placement, ctx);
    findings.push(...runRules(rules, target, ctx));
    if (input.operation === 'UPDATE') downgradePreExisting(findings, rules, target, ctx);
    downgradeControlledPod(findings, target, ctx);
    applyWaivers(findings, target, ctx);
  }
  const allowed = !findings.some((finding) => finding.level === 'deny');
  const decision = {
    ...base,
    allowed,
    environment: environment.name,
    mode: environment.mode,
    skipped: undefined,
    findings,
  };
  return {
    ...decision,
    message: allowed
      ? undefined
      : denialMessage(
          { ...decision, object, selectorKeys: requiredLabelKeys(ctx.policy) },
          environment,
        ),
    warnings: warningLines(findings),
  };
}

export interface RuleMutations {
  readonly patch: JsonPatchOperation[];
  readonly warnings: string[];
}

/**
 * /mutate: each mutating rule's change is a finding at deny, so a waiver is applied to it exactly as
 * at /validate; a waived change is withheld, and the waiver's warning says so.
 */
export function mutate(input: AdmissionInput, ctx: EvaluationContext): RuleMutations {
  const object = input.object;
  const rules = mutatorsFor(input.kind, input.operation);
  if (object === undefined || rules.length === 0) return { patch: [], warnings: [] };
  const placement = placementOf(input, ctx);
  const scope = input.kind === 'Namespace' ? placement.name : input.namespace;
  if (isExcludedNamespace(input, scope, ctx)) return { patch: [], warnings: [] };
  const target = targetOf(input, object, placement, ctx);
  const planned = rules.filter((rule) => ctx.policy.levelOf(rule, placement.environment) !== 'off');
  const findings: Finding[] = planned.map((rule) => ({
    ...(rule.mutation?.describes ?? { path: '', message: '', fix: '' }),
    rule: rule.id,
    name: rule.name,
    level: 'deny',
    notes: [],
  }));
  applyWaivers(findings, target, ctx);
  const patch = planned.flatMap((rule, index) =>
    findings[index]?.waivedBy === undefined ? (rule.mutation?.patch(target) ?? []) : [],
  );
  return { patch, warnings: warningLines(findings) };
}
