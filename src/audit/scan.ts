import { isDeepStrictEqual } from 'node:util';
import {
  ALLOW_DNS_ANNOTATION,
  BASELINE_ANNOTATION,
  DEFAULT_DENY_ANNOTATION,
} from '../vocabulary.ts';
import type { Environment, Policy } from '../config/policy.ts';
import type { ClusterRanges } from '../cluster-ranges.ts';
import { staticClusterView } from '../engine/cluster-view.ts';
import { effectiveEnvironment } from '../engine/environment.ts';
import { validate } from '../engine/evaluate.ts';
import { field, stringField } from '../object-access.ts';
import { RULE_SET } from '../rules/registry.ts';
import type {
  AdmissionInput,
  ClusterView,
  Decision,
  EvaluationContext,
  Finding,
  WaiverRef,
  WaiverView,
} from '../engine/types.ts';
import type { KubeObject, Mode } from '../vocabulary.ts';
import { stringMap } from '../labels.ts';
import { baselineAnnotations, policyTypesOf } from '../model/baseline-annotations.ts';
import { deniedTypes, desiredBaseline, isManagedPolicy } from '../model/baseline-policies.ts';
import type { CniVerdict } from '../cni.ts';
import { ownerIndex } from './owners.ts';
import { gvkOfObject, judgedKindOf } from '../model/dialects/gvk.ts';

export interface AuditFinding {
  readonly kind: string;
  readonly name: string;
  readonly level: 'deny' | 'warn';
  readonly path: string;
  readonly message: string;
  readonly waivedBy?: WaiverRef;
  readonly hint?: string;
}

export interface RuleGroup {
  readonly rule: string;
  readonly name: string;
  readonly deny: number;
  readonly warn: number;
  readonly findings: readonly AuditFinding[];
}

export interface NamespaceReport {
  readonly name: string;
  readonly environment: string;
  readonly mode: Mode;
  /** What the namespace lacks of its mode's baseline annotations; empty when it has them. */
  readonly baselineMissing: readonly string[];
  /** A weaker environment label that does not count (no approved NS003 waiver, or it expired). */
  readonly ignoredEnvironmentLabel?: string;
  readonly objects: number;
  readonly denied: number;
  readonly warned: number;
  readonly rules: readonly RuleGroup[];
}

export interface EnvironmentReadiness {
  readonly environment: string;
  readonly mode: Mode;
  readonly nextMode: Mode | null;
  readonly namespaces: readonly string[];
  readonly objects: number;
  readonly deniedNow: number;
  /** Objects denied if the environment moved to `nextMode` (null in enforce). */
  readonly deniedInNextMode: number | null;
  /** Deny findings in the next mode, per rule. */
  readonly nextModeDenialsByRule: Readonly<Record<string, number>>;
  /** Namespaces lacking the baseline the next mode (or enforce) gives new namespaces, and what they lack. */
  readonly withoutBaseline: readonly {
    readonly namespace: string;
    readonly missing: readonly string[];
  }[];
}

export interface AuditReport {
  readonly cni: CniVerdict;
  readonly summary: {
    readonly namespaces: number;
    readonly objects: number;
    readonly denied: number;
    readonly warned: number;
    readonly excludedNamespaces: number;
    /** Pods and ReplicaSets/Jobs reported at the workload that owns them. */
    readonly reportedAtOwner: number;
    /** netguard's own baseline NetworkPolicies: the controller's, not judged here. */
    readonly baselinePolicies: number;
  };
  readonly namespaces: readonly NamespaceReport[];
  readonly environments: readonly EnvironmentReadiness[];
  /** Kinds that could not be listed, and exceptions that did not parse. */
  readonly notes: readonly string[];
}

export interface AuditInput {
  readonly namespaces: readonly KubeObject[];
  readonly objects: readonly KubeObject[];
  readonly policy: Policy;
  readonly waivers: WaiverView;
  readonly now: Date;
  readonly cni: CniVerdict;
  readonly notes?: readonly string[];
  /** Only this namespace (the listing was already narrowed; this narrows the Namespace list too). */
  readonly namespace?: string | undefined;
  /** What `clusterCIDRs: auto` read from the cluster (absent: judged as offline). */
  readonly clusterRanges?: ClusterRanges | undefined;
}

const NEXT_MODE: Readonly<Record<Mode, Mode | null>> = {
  observe: 'constrain',
  constrain: 'enforce',
  enforce: null,
};

/**
 * The controller's own policies: a reserved name, netguard's label, and exactly the spec the
 * controller keeps for the namespace's annotations. A user who labels a policy `managed-by:
 * netguard` (or edits a baseline) does not make it netguard's: it is judged.
 */
function isBaselinePolicy(object: KubeObject, cluster: ClusterView, policy: Policy): boolean {
  if (
    judgedKindOf(gvkOfObject(object)) !== 'NetworkPolicy' ||
    !isManagedPolicy(stringMap(field(object, 'metadata', 'labels')))
  )
    return false;
  const namespace = cluster.namespace(stringField(object, 'metadata', 'namespace'));
  const desired = desiredBaseline(namespace?.annotations ?? {}, policy.networkPolicies.dns).find(
    (wanted) => wanted.name === stringField(object, 'metadata', 'name'),
  );
  return desired !== undefined && isDeepStrictEqual(field(object, 'spec'), desired.spec);
}

function inputFor(object: KubeObject, index: number): AdmissionInput {
  return {
    uid: `audit-${index + 1}`,
    kind: stringField(object, 'kind'),
    // What each object would get if it were applied today, by someone with no special standing.
    operation: 'CREATE',
    namespace: stringField(object, 'metadata', 'namespace'),
    name: stringField(object, 'metadata', 'name'),
    object,
    oldObject: undefined,
    user: { username: '', groups: [] },
    dryRun: true,
    offline: true,
  };
}

/** The policy as it would be with one environment moved to another mode. */
export function withMode(policy: Policy, environment: string, mode: Mode): Policy {
  const move = (env: Environment): Environment =>
    env.name === environment ? { ...env, mode } : env;
  return {
    ...policy,
    environments: policy.environments.map(move),
    defaultEnvironment: move(policy.defaultEnvironment),
  };
}

/** What a namespace lacks of the annotations NS001 gives new namespaces in `mode`. */
export function baselineGaps(annotations: Readonly<Record<string, string>>, mode: Mode): string[] {
  if (mode === 'observe') {
    return annotations[BASELINE_ANNOTATION] !== undefined ||
      annotations[DEFAULT_DENY_ANNOTATION] !== undefined
      ? []
      : [`${BASELINE_ANNOTATION}: observe`];
  }
  const wanted = baselineAnnotations(mode);
  const have = deniedTypes(annotations[DEFAULT_DENY_ANNOTATION]);
  const missingTypes = [...policyTypesOf(wanted[DEFAULT_DENY_ANNOTATION])].filter(
    (type) => !have.some((word) => word === type),
  );
  const gaps: string[] = [];
  if (missingTypes.length > 0)
    gaps.push(
      `${DEFAULT_DENY_ANNOTATION}: ${wanted[DEFAULT_DENY_ANNOTATION] ?? ''}${have.length > 0 ? ` (has ${have.join(',')})` : ''}`,
    );
  if (annotations[ALLOW_DNS_ANNOTATION] !== 'true') gaps.push(`${ALLOW_DNS_ANNOTATION}: "true"`);
  return gaps;
}

const FQDN_HINT =
  'Cilium is installed: a CiliumNetworkPolicy with toFQDNs can allow these destinations by DNS name instead of IP blocks.';

function auditFinding(decision: Decision, finding: Finding, cni: CniVerdict): AuditFinding {
  const notes = finding.notes.length > 0 ? ` (${finding.notes.join('; ')})` : '';
  return {
    kind: decision.kind,
    name: decision.name,
    level: finding.level,
    path: finding.path,
    message: `${finding.message} ${finding.fix}${notes}`,
    ...(finding.waivedBy === undefined ? {} : { waivedBy: finding.waivedBy }),
    ...(finding.rule === 'NP004' && cni.fqdnEgress ? { hint: FQDN_HINT } : {}),
  };
}

function groupByRule(decisions: readonly Decision[], cni: CniVerdict): RuleGroup[] {
  const groups = new Map<string, { name: string; findings: AuditFinding[] }>();
  for (const decision of decisions) {
    for (const finding of decision.findings) {
      const group = groups.get(finding.rule) ?? { name: finding.name, findings: [] };
      group.findings.push(auditFinding(decision, finding, cni));
      groups.set(finding.rule, group);
    }
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([rule, group]) => ({
      rule,
      name: group.name,
      deny: group.findings.filter((finding) => finding.level === 'deny').length,
      warn: group.findings.filter((finding) => finding.level === 'warn').length,
      findings: group.findings,
    }));
}

const hasWarning = (decision: Decision): boolean =>
  decision.findings.some((finding) => finding.level === 'warn');

/**
 * One judged object: which object (apiVersion, kind, name, namespace, uid: all a report names),
 * what the engine decided, and what it would decide with the namespace's environment one mode
 * stricter (undefined in enforce). The object itself is not kept: audit judges page by page.
 */
export interface Judged {
  readonly object: KubeObject;
  readonly decision: Decision;
  readonly inNextMode: Decision | undefined;
}

function readiness(
  env: Environment,
  namespaces: readonly NamespaceReport[],
  judged: readonly Judged[],
  input: AuditContext,
): EnvironmentReadiness {
  const nextMode = NEXT_MODE[env.mode];
  const mine = namespaces.filter((ns) => ns.environment === env.name);
  const names = new Set(mine.map((ns) => ns.name));
  const objects = judged.filter((entry) => names.has(entry.decision.namespace));
  const byRule: Record<string, number> = {};
  let deniedInNextMode: number | null = null;
  if (nextMode !== null) {
    const decisions = objects.flatMap((entry) => entry.inNextMode ?? []);
    deniedInNextMode = decisions.filter((decision) => !decision.allowed).length;
    for (const finding of decisions.flatMap((decision) => decision.findings)) {
      if (finding.level === 'deny') byRule[finding.rule] = (byRule[finding.rule] ?? 0) + 1;
    }
  }
  const target = nextMode ?? env.mode;
  const annotationsOf = new Map(
    input.namespaces.map((ns) => [
      stringField(ns, 'metadata', 'name'),
      stringMap(field(ns, 'metadata', 'annotations')),
    ]),
  );
  const withoutBaseline = mine
    .map((ns) => ({
      namespace: ns.name,
      missing: baselineGaps(annotationsOf.get(ns.name) ?? {}, target),
    }))
    .filter((entry) => entry.missing.length > 0);
  return {
    environment: env.name,
    mode: env.mode,
    nextMode,
    namespaces: mine.map((ns) => ns.name),
    objects: objects.length,
    deniedNow: objects.filter((entry) => !entry.decision.allowed).length,
    deniedInNextMode,
    nextModeDenialsByRule: Object.fromEntries(
      Object.entries(byRule).sort(([a], [b]) => a.localeCompare(b)),
    ),
    withoutBaseline,
  };
}

/** Judges every listed object with the webhook's engine, groups what it finds, and measures each environment's next step. Pure. */
export function auditCluster(input: AuditInput): AuditReport {
  return auditWithDecisions(input).report;
}

/** The report and the per-object decisions behind it (PolicyReports list each object). Pure. */
export function auditWithDecisions(input: AuditInput): {
  report: AuditReport;
  judged: readonly Judged[];
} {
  const auditor = startAudit({
    ...input,
    policies: input.objects.filter((object) => stringField(object, 'kind') === 'NetworkPolicy'),
  });
  auditor.know(input.objects);
  auditor.judge(input.objects);
  return auditor.finish();
}

/** What judging needs before the first page: everything but the workloads. */
export interface AuditContext extends Omit<AuditInput, 'objects'> {
  /** Every NetworkPolicy in scope: rules read a namespace's other policies. */
  readonly policies: readonly KubeObject[];
}

/** Judges a listing page by page, keeping decisions and references, never the objects. */
export interface Auditor {
  /** Owners a later page's objects may name (list Deployments before ReplicaSets before Pods). */
  know(objects: readonly KubeObject[]): void;
  /** Judges one page; its objects may be dropped once this returns. */
  judge(objects: readonly KubeObject[]): void;
  finish(): { report: AuditReport; judged: readonly Judged[] };
}

/** A reference to an object: what a report names of it. */
function referenceOf(object: KubeObject): KubeObject {
  const metadata: Record<string, string> = {
    name: stringField(object, 'metadata', 'name'),
    namespace: stringField(object, 'metadata', 'namespace'),
    uid: stringField(object, 'metadata', 'uid'),
  };
  return {
    apiVersion: stringField(object, 'apiVersion'),
    kind: stringField(object, 'kind'),
    metadata,
  };
}

export function startAudit(input: AuditContext): Auditor {
  const view = staticClusterView([...input.namespaces, ...input.policies]);
  const ranges = input.clusterRanges ?? view.clusterRanges();
  const cluster: ClusterView = { ...view, clusterRanges: () => ranges };
  // Owners as they are listed (uid and template facts only): a Pod is reported at its controller
  // only when the listing holds that owner with that uid and the same template facts.
  const owners = ownerIndex(input.policy);
  const ctx: EvaluationContext = {
    policy: input.policy,
    rules: RULE_SET,
    cluster,
    waivers: input.waivers,
    now: input.now,
  };
  // One context per environment, with that environment one mode stricter.
  const nextContexts = new Map<string, EvaluationContext | undefined>();
  const nextContextOf = (namespace: string): EvaluationContext | undefined => {
    const info = cluster.namespace(namespace) ?? { name: namespace, labels: {}, annotations: {} };
    const env = effectiveEnvironment(info, ctx).environment;
    if (!nextContexts.has(env.name)) {
      const nextMode = NEXT_MODE[env.mode];
      nextContexts.set(
        env.name,
        nextMode === null
          ? undefined
          : { ...ctx, policy: withMode(input.policy, env.name, nextMode) },
      );
    }
    return nextContexts.get(env.name);
  };
  const judged: Judged[] = [];
  let candidates = 0;
  let baselinePolicies = 0;
  let atOwners = 0;
  return {
    know(objects) {
      owners.know(objects);
    },
    judge(objects) {
      for (const object of objects) {
        if (isBaselinePolicy(object, cluster, input.policy)) {
          baselinePolicies++;
          continue;
        }
        if (owners.reportedAtOwner(object)) {
          if (!input.policy.excludedNamespaces.has(stringField(object, 'metadata', 'namespace')))
            atOwners++;
          continue;
        }
        const request = inputFor(object, candidates++);
        const decision = validate(request, ctx);
        if (decision.skipped !== undefined) continue;
        const next = nextContextOf(decision.namespace);
        judged.push({
          object: referenceOf(object),
          decision,
          inNextMode: next === undefined ? undefined : validate(request, next),
        });
      }
    },
    finish: () => ({
      report: reportOf(input, ctx, judged, { baselinePolicies, atOwners }),
      judged,
    }),
  };
}

function reportOf(
  input: AuditContext,
  ctx: EvaluationContext,
  judged: readonly Judged[],
  counts: { readonly baselinePolicies: number; readonly atOwners: number },
): AuditReport {
  const namespaceObjects = input.namespaces.filter(
    (ns) =>
      input.namespace === undefined || stringField(ns, 'metadata', 'name') === input.namespace,
  );
  const excluded = namespaceObjects.filter((ns) =>
    input.policy.excludedNamespaces.has(stringField(ns, 'metadata', 'name')),
  );
  const namespaces = namespaceObjects
    .filter((ns) => !excluded.includes(ns))
    .map((ns): NamespaceReport => {
      const name = stringField(ns, 'metadata', 'name');
      const info = ctx.cluster.namespace(name) ?? { name, labels: {}, annotations: {} };
      const resolved = effectiveEnvironment(info, ctx);
      const env = resolved.environment;
      const decisions = judged
        .filter((entry) => entry.decision.namespace === name)
        .map((entry) => entry.decision);
      return {
        name,
        environment: env.name,
        mode: env.mode,
        baselineMissing: baselineGaps(info.annotations, env.mode),
        ...(resolved.ignoredLabel === undefined
          ? {}
          : { ignoredEnvironmentLabel: resolved.ignoredLabel.name }),
        objects: decisions.length,
        denied: decisions.filter((decision) => !decision.allowed).length,
        warned: decisions.filter((decision) => decision.allowed && hasWarning(decision)).length,
        rules: groupByRule(decisions, input.cni),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    cni: input.cni,
    summary: {
      namespaces: namespaces.length,
      objects: judged.length,
      denied: judged.filter((entry) => !entry.decision.allowed).length,
      warned: judged.filter((entry) => entry.decision.allowed && hasWarning(entry.decision)).length,
      excludedNamespaces: excluded.length,
      baselinePolicies: counts.baselinePolicies,
      reportedAtOwner: counts.atOwners,
    },
    namespaces,
    environments: input.policy.environments.map((env) => readiness(env, namespaces, judged, input)),
    notes: input.notes ?? [],
  };
}
