/**
 * The engine's two entry points, pure and synchronous: `validate` (the verdict at /validate, and in
 * `check` and `audit`) and `mutate` (the JSON Patch at /mutate). Both place the review, build one
 * target and pass their findings through the same waiver step.
 */
import { requiredLabelKeys } from '../config/policy.ts';
import { viewOf } from './object-view.ts';
import { denialMessage, warningLines } from './message.ts';
import { skipOf } from './skips.ts';
import { judgedInput, objectName, placementOf, targetOf, type Placement } from './target.ts';
import { judgedAtOwner } from './trust.ts';
import type {
  AdmissionInput,
  Decision,
  EvaluationContext,
  Finding,
  EntryPoint,
  JsonPatchOperation,
  MutationDecision,
  Rule,
  RuleTarget,
} from './types.ts';
import { notWidened } from './widening.ts';
import { subjectWithin, type SubjectAtom } from '../model/subject.ts';
import type { KubeObject } from '../vocabulary.ts';

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

/** A review placed for judging, or the decision a skip gave it. */
type Reviewed =
  | { readonly skipped: Decision }
  | {
      readonly input: AdmissionInput;
      readonly base: Pick<Decision, 'kind' | 'namespace' | 'name'>;
      readonly object: KubeObject | undefined;
      readonly placement: Placement;
    };

/** Both entries start here: the judged input, the skip list (engine/skips.ts), then placement. */
function reviewed(entry: EntryPoint, written: AdmissionInput, ctx: EvaluationContext): Reviewed {
  const input = judgedInput(written);
  const base = {
    kind: shownKind(input.kind, written.kind),
    namespace: input.namespace,
    name: objectName(input),
  };
  const object = input.operation === 'DELETE' ? input.oldObject : input.object;
  const skip = skipOf(entry, { input, name: base.name, object }, ctx);
  if (skip === undefined) return { input, base, object, placement: placementOf(input, ctx) };
  const environment = skip.placed ? placementOf(input, ctx).environment : undefined;
  return {
    skipped: {
      ...base,
      allowed: true,
      environment: environment?.name,
      mode: environment?.mode,
      skipped: skip.reason,
      findings: [],
      message: undefined,
      warnings: [],
    },
  };
}

/** /validate: skips → rules → pre-existing → judged at the owner → waivers → verdict. */
export function validate(written: AdmissionInput, ctx: EvaluationContext): Decision {
  const review = reviewed('validate', written, ctx);
  if ('skipped' in review) return review.skipped;
  const { input, base, object, placement } = review;
  const { environment } = placement;
  const rules = ctx.rules.judging(input.kind, input.operation);
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

/**
 * /mutate: each mutating rule's change is a finding at deny, so a waiver is applied to it exactly as
 * at /validate; a waived change is withheld, the waiver's warning says so, and the decision keeps
 * it among its findings. A skipped review (GuardrailException bookkeeping included) has no patch
 * here: mutation/mutate.ts adds the bookkeeping.
 */
export function mutate(written: AdmissionInput, ctx: EvaluationContext): MutationDecision {
  const review = reviewed('mutate', written, ctx);
  if ('skipped' in review) return { ...review.skipped, patch: [] };
  const { input, base, placement } = review;
  const { environment } = placement;
  const object = input.object;
  const rules = object === undefined ? [] : ctx.rules.mutating(input.kind, input.operation);
  const planned = rules.filter((rule) => ctx.policy.levelOf(rule, environment) !== 'off');
  const findings: Finding[] = planned.map((rule) => ({
    ...(rule.mutation?.describes ?? { path: '', message: '', fix: '' }),
    rule: rule.id,
    name: rule.name,
    level: 'deny',
    notes: [],
  }));
  const patch: JsonPatchOperation[] = [];
  if (object !== undefined && planned.length > 0) {
    const target = targetOf(input, object, placement, ctx);
    applyWaivers(findings, target, ctx);
    planned.forEach((rule, index) => {
      if (findings[index]?.waivedBy === undefined)
        patch.push(...(rule.mutation?.patch(target) ?? []));
    });
  }
  return {
    ...base,
    allowed: true,
    environment: environment.name,
    mode: environment.mode,
    skipped: undefined,
    findings: findings.filter((finding) => finding.level === 'warn'),
    message: undefined,
    warnings: warningLines(findings),
    patch,
  };
}

/**
 * A review denied before any rule ran (its object past the review bounds): the decision records
 * the denial and its words like any other.
 */
export function refusedUnjudged(written: AdmissionInput, message: string): Decision {
  const input = judgedInput(written);
  return {
    kind: shownKind(input.kind, written.kind),
    namespace: input.namespace,
    name: objectName(input),
    allowed: false,
    environment: undefined,
    mode: undefined,
    skipped: undefined,
    findings: [],
    message,
    warnings: [],
  };
}
