import type { ClusterRanges } from '../cluster-ranges.ts';
import type { Environment, Policy } from '../config/policy.ts';
import type { KubeObject, Level, Mode, NamespaceInfo, Operation } from '../vocabulary.ts';
import type { NetworkPolicy } from '../model/network-policy.ts';
import type { ObjectView } from './object-view.ts';
import type { SubjectAtom } from '../model/subject.ts';

export interface UserInfo {
  readonly username: string;
  readonly groups: readonly string[];
}

/** What the engine judges, whether it came from an AdmissionReview, a manifest file or a cluster list. */
export interface AdmissionInput {
  readonly uid: string;
  /**
   * The kind as written; the engine replaces it on entry with the name it judges the object by
   * (`judgedInput`), resolved from `group` and `version` (or, when absent, the object's apiVersion).
   */
  readonly kind: string;
  /** The API group and version the request names (AdmissionReview `request.kind`). */
  readonly group?: string;
  readonly version?: string;
  readonly operation: Operation;
  readonly namespace: string;
  readonly name: string;
  readonly object: KubeObject | undefined;
  readonly oldObject: KubeObject | undefined;
  readonly user: UserInfo;
  readonly dryRun: boolean;
  /**
   * Set by `check` and `audit`: the object is judged as it stands, with no write and no requester,
   * so rules about who writes (NP014) have nothing to judge. Never set from an AdmissionReview.
   */
  readonly offline?: true;
  /** The subresource a request writes (`status`, `scale`); such a review is skipped, never judged. */
  readonly subResource?: string | undefined;
}

/** Cluster state the engine may read, always from memory (informer caches, or the other documents in `check`). */
export interface ClusterView {
  namespace(name: string): NamespaceInfo | undefined;
  /** The namespace's NetworkPolicies, parsed once when they entered the cache. */
  networkPolicies(namespace: string): readonly NetworkPolicy[];
  /**
   * The namespace's policies that select every pod (empty podSelector) and restrict egress: the only
   * neighbours that can allow DNS for the whole namespace (NP001), indexed once per change.
   */
  namespaceWideEgressPolicies(namespace: string): readonly NetworkPolicy[];
  /**
   * Objects of a judged dialect kind the cluster holds: the sets a dialect policy's peers name
   * (CiliumCIDRGroup, Calico NetworkSet and GlobalNetworkSet) and the dialect policies themselves
   * (cross-policy unions, set writes), all of them or one namespace's. The same array until one of
   * them changes. Undefined (or the method absent) when the cluster's objects of that kind are not
   * known: the kind is not served, or its cache has not synced.
   */
  dialectObjects?(judgedKind: string, namespace?: string): readonly KubeObject[] | undefined;
  /** Pod and service ranges read from the cluster, for `clusterCIDRs: auto` (offline: not known). */
  clusterRanges(): ClusterRanges;
}

export interface WaiverRef {
  readonly name: string;
  readonly namespace: string;
  readonly expires: string;
}

/** Waivers as the engine sees them; the exception registry implements it. */
export interface WaiverView {
  /** Decides, for each finding at deny, whether a waiver turns it into a warning. */
  apply(findings: Finding[], target: RuleTarget, now: Date): void;
  /** Rules an expired waiver of this target listed: their findings are no longer pre-existing. */
  lapsedRules(target: RuleTarget, now: Date): ReadonlySet<string>;
  /**
   * An approved, active waiver of `rule` naming this Namespace (in netguard's namespace), held to
   * the limit of `base`, the environment selector and name give it.
   */
  namespaceWaiver(
    namespace: string,
    rule: string,
    base: Environment,
    now: Date,
  ): WaiverRef | undefined;
}

/** The rules the engine runs, handed to it in the context (the engine never imports a rule file). */
export interface RuleSet {
  readonly all: readonly Rule[];
  readonly byId: ReadonlyMap<string, Rule>;
  /** The rules that judge this kind on this operation, looked up once per request. */
  judging(kind: string, operation: Operation): readonly Rule[];
  /** The rules that change this kind at /mutate on this operation (NS001 on Namespace CREATE). */
  mutating(kind: string, operation: Operation): readonly Rule[];
}

export interface EvaluationContext {
  readonly policy: Policy;
  /** The rules to run (rules/registry.ts's RULE_SET), handed in: the engine imports no rule file. */
  readonly rules: RuleSet;
  readonly cluster: ClusterView;
  readonly waivers: WaiverView;
  readonly now: Date;
}

/** What one rule sees: the object under judgement and where it lives. */
export interface RuleTarget {
  readonly input: AdmissionInput;
  readonly kind: string;
  readonly name: string;
  readonly object: KubeObject;
  /** The object parsed once for every rule of this review. */
  readonly view: ObjectView;
  /**
   * The workloads that own the object (its controller, and a ReplicaSet pod's Deployment), when its
   * controller ownerReference is trusted: a controller identity sent it (engine/trust.ts). Empty
   * otherwise, so a hand-written reference never matches a waiver naming the workload.
   */
  readonly owners: readonly { readonly kind: string; readonly name: string }[];
  readonly namespace: NamespaceInfo;
  /** The effective environment (DESIGN "Who may, and until when"). */
  readonly environment: Environment;
  /** What selector, name patterns and default give, never the label: bounds Namespace waivers. */
  readonly baseEnvironment: Environment;
}

/** A rule's own report: where, what is wrong and why it matters, and how to fix it. */
export interface RawFinding {
  readonly path: string;
  readonly message: string;
  readonly fix: string;
  /**
   * What the finding is about, by meaning (DESIGN "Widening"). The engine keeps it out of the
   * finding it reports; on UPDATE it decides whether the finding is pre-existing.
   */
  readonly subject?: readonly SubjectAtom[];
  /** Never more than a warning, whatever the rule's level (a weaker environment label ignored). */
  readonly advisory?: true;
  /** A rule that could not judge says so: at most a warning, never a denial. */
  readonly notJudged?: true;
}

export interface Finding extends Omit<RawFinding, 'subject' | 'advisory'> {
  readonly rule: string;
  readonly name: string;
  level: 'deny' | 'warn';
  /** Why a deny became a warning, or what the reader should know: "pre-existing", a waiver, an expiry. */
  readonly notes: string[];
  waivedBy?: WaiverRef;
  /**
   * A matching waiver that has expired; `renewal` is its source's instruction for renewing it, given
   * the longest expiry the environment allows (the engine knows no source by name).
   */
  expiredWaiver?: WaiverRef & { readonly renewal: (maxDuration: string) => string };
  /** A matching waiver awaiting approval (the denial then says who runs `exception approve`). */
  pendingWaiver?: WaiverRef;
}

export interface RuleDoc {
  readonly checks: string;
  readonly prevents: string;
  readonly fix: string;
  /** A manifest (YAML) that fires, and one that passes. */
  readonly fires: string;
  readonly passes: string;
}

export interface Rule {
  readonly id: string;
  readonly name: string;
  readonly kinds: readonly string[];
  readonly operations: readonly Operation[];
  readonly levels: Readonly<Record<Mode, Level>>;
  /** `change` rules judge the transition itself, so an UPDATE's old object never downgrades them. */
  readonly judges: 'object' | 'change';
  readonly doc: RuleDoc;
  check(target: RuleTarget, ctx: EvaluationContext): RawFinding[];
  /**
   * Whether an UPDATE widened an old finding at `path` (so it is new). Rules without it use the
   * subject of their findings, or the value at the path compared by meaning.
   */
  widened?(path: string, before: RuleTarget, after: RuleTarget): boolean;
  /** Set on rules that change objects at /mutate (NS001); `check` then finds nothing at /validate. */
  readonly mutation?: RuleMutation;
}

/** One RFC 6902 operation, as /mutate returns them. */
export type JsonPatchOperation =
  | { readonly op: 'add' | 'replace'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string };

/**
 * A change a rule makes at /mutate. The engine treats it as a finding at deny that waivers see
 * like any other: an approved waiver turns it into a warning, and the change is then withheld.
 */
export interface RuleMutation {
  readonly operations: readonly Operation[];
  /** The finding a waiver of this mutation names: where it writes and what it adds. */
  readonly describes: RawFinding;
  patch(target: RuleTarget): JsonPatchOperation[];
}

/** The engine's two entry points, one per webhook. */
export type EntryPoint = 'validate' | 'mutate';

/**
 * Why a review was not judged by the rules (engine/skips.ts, in this order): a subresource, an
 * excluded namespace, netguard's controller writing its own baseline, or (at /mutate) a
 * GuardrailException, which gets netguard's bookkeeping instead.
 */
export type SkipReason =
  | 'subresource'
  | 'excluded-namespace'
  | 'controller-written'
  | 'exception-bookkeeping';

export interface Decision {
  readonly allowed: boolean;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly environment: string | undefined;
  readonly mode: Mode | undefined;
  /** Set when the rules did not judge the object, with the reason. */
  readonly skipped: SkipReason | undefined;
  /** At /mutate, the changes a waiver withheld (each at warn, with `waivedBy`). */
  readonly findings: readonly Finding[];
  readonly message: string | undefined;
  readonly warnings: readonly string[];
  /** /mutate only: the JSON Patch of the reply. */
  readonly patch?: readonly JsonPatchOperation[];
}

/** What /mutate decided: always admitted, with the patch it returns (possibly empty). */
export interface MutationDecision extends Decision {
  readonly patch: JsonPatchOperation[];
}
