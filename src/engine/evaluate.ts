import { resolveEnvironment } from '../config/environment.ts';
import { requiredLabelKeys } from '../config/policy.ts';
import { stringMap } from '../labels.ts';
import { viewOf } from '../rules/object-view.ts';
import { rulesFor } from '../rules/registry.ts';
import { denialMessage, warningLines } from './message.ts';
import { notWidened } from './widening.ts';
import { ownersOf } from '../exceptions/matching.ts';
import { arrayField, asRecord, field, stringField } from '../object-access.ts';
import type { AdmissionInput, Decision, EvaluationContext, Finding, Rule, RuleTarget } from './types.ts';
import { MANAGED_BY_LABEL, MANAGED_BY_NETGUARD, unknownNamespace, type KubeObject, type NamespaceInfo } from '../vocabulary.ts';

/** Controllers whose pods are judged at the workload; on the Pod a deny only warns, so scaling never breaks. */
const POD_CONTROLLERS = new Set(['ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicationController']);

export function objectName(input: AdmissionInput): string {
  const object = input.object ?? input.oldObject;
  return input.name || stringField(object, 'metadata', 'name') || stringField(object, 'metadata', 'generateName');
}

/** Namespaces describe themselves; anything else reads its namespace from the cluster view. */
export function namespaceOf(input: AdmissionInput, ctx: EvaluationContext): NamespaceInfo {
  if (input.kind === 'Namespace') {
    // An UPDATE is judged in the environment the namespace is in, not the one its new labels ask for.
    const object = input.operation === 'UPDATE' ? (input.oldObject ?? input.object) : (input.object ?? input.oldObject);
    return {
      name: objectName(input),
      labels: stringMap(field(object, 'metadata', 'labels')),
      annotations: stringMap(field(object, 'metadata', 'annotations')),
    };
  }
  return ctx.cluster.namespace(input.namespace) ?? unknownNamespace(input.namespace);
}

function runRules(rules: readonly Rule[], target: RuleTarget, ctx: EvaluationContext): Finding[] {
  const findings: Finding[] = [];
  for (const rule of rules) {
    const level = ctx.policy.levelOf(rule, target.environment);
    if (level === 'off') continue;
    for (const raw of rule.check(target, ctx)) {
      findings.push({ ...raw, rule: rule.id, name: rule.name, level, notes: [] });
    }
  }
  return findings;
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
function downgradePreExisting(findings: Finding[], rules: readonly Rule[], target: RuleTarget, ctx: EvaluationContext): void {
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

export function controllerOf(object: KubeObject): { kind: string; name: string; uid: string } | undefined {
  for (const ref of arrayField(object, 'metadata', 'ownerReferences')) {
    const owner = asRecord(ref);
    if (field(owner, 'controller') !== true) continue;
    const kind = stringField(owner, 'kind');
    if (POD_CONTROLLERS.has(kind)) return { kind, name: stringField(owner, 'name'), uid: stringField(owner, 'uid') };
  }
  return undefined;
}

/** Identities that run the workload controllers: their Pods are the workload scaling or healing. */
export function isControllerIdentity(username: string): boolean {
  return username === 'system:kube-controller-manager' || username.startsWith('system:serviceaccount:kube-system:');
}

/**
 * Whether a Pod's controller is real: the request comes from a controller identity, or the owner
 * it names exists in the cluster cache with that uid. A hand-written ownerReference proves nothing.
 */
function ownerVerified(target: RuleTarget, owner: { kind: string; name: string; uid: string }, ctx: EvaluationContext): boolean {
  if (isControllerIdentity(target.input.user.username)) return true;
  const uid = ctx.cluster.ownerUid(target.namespace.name, owner.kind, owner.name);
  return uid !== undefined && uid === owner.uid;
}

/** The object's owners, if its controller ownerReference is trusted (see RuleTarget.owners). */
function trustedOwners(input: AdmissionInput, object: KubeObject, namespace: string, ctx: EvaluationContext): RuleTarget['owners'] {
  const ref = arrayField(object, 'metadata', 'ownerReferences').map(asRecord).find((owner) => field(owner, 'controller') === true);
  if (ref === undefined) return [];
  const trusted =
    isControllerIdentity(input.user.username) ||
    ctx.cluster.ownerUid(namespace, stringField(ref, 'kind'), stringField(ref, 'name')) === stringField(ref, 'uid');
  return trusted ? ownersOf(object) : [];
}

function downgradeControlledPod(findings: Finding[], target: RuleTarget, ctx: EvaluationContext): void {
  if (target.kind !== 'Pod') return;
  const owner = controllerOf(target.object);
  if (owner === undefined || !ownerVerified(target, owner, ctx)) return;
  for (const finding of findings) {
    if (finding.level !== 'deny') continue;
    finding.level = 'warn';
    finding.notes.push(`judged at its ${owner.kind} ${owner.name}`);
  }
}


/**
 * The baseline policies netguard's controller writes are netguard's own output (an ingress
 * allow without ports, a default-deny), not user input: when the controller writes them,
 * no guardrail judges them. Anyone else touching them meets NP011.
 */
function writtenByController(input: AdmissionInput, object: KubeObject, ctx: EvaluationContext): boolean {
  return (
    input.kind === 'NetworkPolicy' &&
    input.user.username === ctx.policy.controllerServiceAccount &&
    stringField(object, 'metadata', 'labels', MANAGED_BY_LABEL) === MANAGED_BY_NETGUARD
  );
}

/** The one engine loop: rules → pre-existing → controlled pods → waivers → verdict. Pure and synchronous. */
export function evaluate(input: AdmissionInput, ctx: EvaluationContext): Decision {
  const name = objectName(input);
  const scope = input.kind === 'Namespace' ? name : input.namespace;
  const base = { kind: input.kind, namespace: input.namespace, name };
  // Waivers are always judged: Namespace waivers live in netguard's own (excluded) namespace.
  if (scope !== '' && input.kind !== 'GuardrailException' && ctx.policy.excludedNamespaces.has(scope)) {
    return { ...base, allowed: true, environment: undefined, mode: undefined, skipped: 'excluded-namespace', findings: [], message: undefined, warnings: [] };
  }
  const namespace = namespaceOf(input, ctx);
  const environment = resolveEnvironment(ctx.policy, namespace);
  const object = input.operation === 'DELETE' ? input.oldObject : input.object;
  const rules = object !== undefined && writtenByController(input, object, ctx) ? [] : rulesFor(input.kind, input.operation);
  const findings: Finding[] = [];
  if (object !== undefined && rules.length > 0) {
    const owners = trustedOwners(input, object, namespace.name, ctx);
    const target: RuleTarget = { input, kind: input.kind, name, object, view: viewOf(input.kind, object), owners, namespace, environment };
    findings.push(...runRules(rules, target, ctx));
    if (input.operation === 'UPDATE') downgradePreExisting(findings, rules, target, ctx);
    downgradeControlledPod(findings, target, ctx);
    if (findings.length > 0) ctx.waivers.apply(findings, target, ctx.now);
  }
  const allowed = !findings.some((finding) => finding.level === 'deny');
  const decision = { ...base, allowed, environment: environment.name, mode: environment.mode, skipped: undefined, findings };
  return {
    ...decision,
    message: allowed ? undefined : denialMessage({ ...decision, object, selectorKeys: requiredLabelKeys(ctx.policy) }, environment),
    warnings: warningLines(findings),
  };
}
