/**
 * The engine's two entry points, pure and synchronous: `validate` (the verdict at /validate, and in
 * `check` and `audit`) and `mutate` (the JSON Patch at /mutate). Both place the review, build one
 * target and pass their findings through the same waiver step.
 */
import { requiredLabelKeys } from '../config/policy.ts';
import { viewOf } from './object-view.ts';
import { denialMessage, warningLines } from './message.ts';
import { isExcludedNamespace, isWrittenByController } from './skips.ts';
import { judgedInput, placementOf, targetOf } from './target.ts';
import { judgedAtOwner } from './trust.ts';
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
import { subjectWithin, type SubjectAtom } from '../model/subject.ts';

export { judgedInput, objectName, namespaceOf } from './target.ts';
export { isControllerIdentity } from './trust.ts';

/** Each finding's subject, kept beside the finding so it never reaches output. */
const subjects = new WeakMap<Finding, readonly SubjectAtom[]>();
import { shownKind } from '../model/dialects/gvk.ts';

function runRules(rules: readonly Rule[], target: RuleTarget, ctx: EvaluationContext): Finding[] {
  const findings: Finding[] = [];
  for (const rule of rules) {
    const level = ctx.policy.levelOf(rule, target.environment);
    if (level === 'off') continue;
    for (const { subject, advisory, ...raw } of rule.check(target, ctx)) {
      // Advisory findings (a weaker label ignored) and rules that could not judge never deny.
      const capped = advisory === true || raw.notJudged === true ? 'warn' : level;
      const finding: Finding = { ...raw, rule: rule.id, name: rule.name, level: capped, notes: [] };
      if (subject !== undefined) subjects.set(finding, subject);
      findings.push(finding);
    }
  }
  return findings;
}

/**
 * Whether an old finding of the same rule covers this one. With subjects (the NP rules that judge
 * peers and ports), the new subject must lie inside the old findings' subjects, wherever they are
 * written; otherwise the same path, not widened (see notWidened).
 */
function coveredByOld(
  finding: Finding,
  before: readonly Finding[],
  oldTarget: RuleTarget,
  target: RuleTarget,
  rule: Rule | undefined,
): boolean {
  const olds = before.filter((old) => old.rule === finding.rule);
  if (olds.length === 0) return false;
  const subject = subjects.get(finding);
  const oldSubjects = olds.map((old) => subjects.get(old));
  if (subject !== undefined && oldSubjects.every((each) => each !== undefined))
    return subjectWithin(subject, oldSubjects.flat());
  const widened = rule?.widened ?? ((path, before, after) => !notWidened(path, before, after));
  return olds.some((old) => old.path === finding.path) && !widened(finding.path, oldTarget, target);
}

/** The waiver step both entries share: an approved, active, matching waiver turns a deny into a warning. */
function applyWaivers(findings: Finding[], target: RuleTarget, ctx: EvaluationContext): void {
  if (findings.length > 0) ctx.waivers.apply(findings, target, ctx.now);
}

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
  const oldTarget = {
    ...target,
    object: old,
    view: viewOf(target.kind, old, ctx.policy.networkPolicies.limits),
  };
  const before = runRules(objectRules, oldTarget, ctx);
  const lapsed = ctx.waivers.lapsedRules(target, ctx.now);
  for (const finding of findings) {
    if (
      finding.level === 'deny' &&
      coveredByOld(
        finding,
        before,
        oldTarget,
        target,
        rules.find((rule) => rule.id === finding.rule),
      ) &&
      grandfathered(finding, lapsed)
    ) {
      finding.level = 'warn';
      finding.notes.push('pre-existing: the object already had this before the update');
    }
  }
}

/**
 * A write by a controller identity whose controller ownerReference names its owner is judged at
 * that owner: here a deny only warns, so a rollout, a CronJob run or a scale-up never stalls.
 */
function downgradeJudgedAtOwner(
  findings: Finding[],
  target: RuleTarget,
  ctx: EvaluationContext,
): void {
  const owner = judgedAtOwner(target.input, target.object, ctx.policy);
  if (owner === undefined) return;
  for (const finding of findings) {
    if (finding.level !== 'deny') continue;
    finding.level = 'warn';
    finding.notes.push(`judged at its ${owner.kind} ${owner.name}`);
  }
}

/** /validate: rules → pre-existing → judged at the owner → waivers → verdict. */
export function validate(written: AdmissionInput, ctx: EvaluationContext): Decision {
  const input = judgedInput(written);
  const placement = placementOf(input, ctx);
  const scope = input.kind === 'Namespace' ? placement.name : input.namespace;
  const base = {
    kind: shownKind(input.kind, written.kind),
    namespace: input.namespace,
    name: placement.name,
  };
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
      : ctx.rules.judging(input.kind, input.operation);
  const findings: Finding[] = [];
  let owners: RuleTarget['owners'] = [];
  if (object !== undefined && rules.length > 0) {
    const target = targetOf(input, object, placement, ctx);
    owners = target.owners;
    for (const finding of runRules(rules, target, ctx)) findings.push(finding);
    if (input.operation === 'UPDATE') downgradePreExisting(findings, rules, target, ctx);
    downgradeJudgedAtOwner(findings, target, ctx);
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
          { ...decision, object, owners, selectorKeys: requiredLabelKeys(ctx.policy) },
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
export function mutate(written: AdmissionInput, ctx: EvaluationContext): RuleMutations {
  const input = judgedInput(written);
  const object = input.object;
  const rules = ctx.rules.mutating(input.kind, input.operation);
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
