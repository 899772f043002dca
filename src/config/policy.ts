import { parseCidr, parseCidrList, type CidrRange } from '../cidr.ts';
import type { LabelSelector } from '../labels.ts';
import type { Level, Mode } from '../vocabulary.ts';
import { parseDuration } from './duration.ts';
import type { GuardrailPolicyDocument } from './schema.ts';
import { DEFAULT_LIMITS, type SizeLimits } from './limits.ts';

/** What the policy needs to know of a rule: its ID and default level per mode (the engine's Rule has both). */
export interface RuleDefaults {
  readonly id: string;
  readonly levels: Readonly<Record<Mode, Level>>;
}

export interface RequiredLabel {
  readonly key: string;
  readonly aliases?: readonly string[] | undefined;
  readonly allowedValues?: readonly string[] | undefined;
}

export interface Environment {
  readonly name: string;
  readonly mode: Mode;
  readonly patterns: readonly RegExp[];
  readonly selector: LabelSelector | undefined;
  /** As written (`14d`), for messages; and in milliseconds, for EX001. */
  readonly exceptionMaxDuration: string;
  readonly exceptionMaxDurationMs: number;
}

export interface NetworkPolicySettings {
  readonly approvedEgressCIDRs: readonly string[];
  /** Cilium `toFQDNs` names and patterns the platform approved (Cilium wildcard semantics). */
  readonly approvedEgressFQDNs: readonly string[];
  readonly privateCIDRs: readonly string[];
  readonly privateRanges: readonly { readonly text: string; readonly range: CidrRange }[];
  /** The written list; empty with `auto`, whose ranges come from the cluster view. */
  readonly clusterCIDRs: readonly string[];
  readonly clusterCIDRsAuto: boolean;
  /** The same blocks parsed once at load, so no review parses them again. */
  readonly approvedEgressRanges: readonly { readonly text: string; readonly range: CidrRange }[];
  readonly clusterRanges: readonly { readonly text: string; readonly range: CidrRange }[];
  /** `limits`: NP013's bounds on the items one policy may hold. */
  readonly limits: SizeLimits;
  readonly dns: {
    readonly namespace: string;
    readonly podLabels: Readonly<Record<string, string>>;
  };
  readonly ephemeralLabels: readonly string[];
}

/** The policy compiled once at load: patterns are regexes, durations are milliseconds, levels are a lookup. */
export interface Policy {
  readonly name: string;
  readonly excludedNamespaces: ReadonlySet<string>;
  readonly environments: readonly Environment[];
  readonly defaultEnvironment: Environment;
  readonly requiredLabels: readonly RequiredLabel[];
  readonly networkPolicies: NetworkPolicySettings;
  readonly exceptions: {
    readonly warnBeforeMs: number;
    readonly approverGroups: readonly string[];
  };
  /** Who else counts as a workload controller (exact usernames, groups): DESIGN "Who may". */
  readonly trust: {
    readonly controllerUsers: readonly string[];
    readonly controllerGroups: readonly string[];
  };
  readonly controllerServiceAccount: string;
  /** Every rule's defaults, for comparing environments rule by rule (which one is stricter). */
  readonly ruleDefaults: readonly RuleDefaults[];
  /** Who may write cluster-scoped policy kinds (NP014). */
  readonly platform: { readonly users: readonly string[]; readonly groups: readonly string[] };
  levelOf(rule: RuleDefaults, environment: Environment): Level;
}

export const DEFAULTS = {
  excludedNamespaces: ['kube-system', 'kube-public', 'kube-node-lease', 'netguard-system'],
  exceptionMaxDuration: '30d',
  warnBefore: '7d',
  requiredLabels: [
    { key: 'app', aliases: ['app.kubernetes.io/name'] },
    { key: 'tier', allowedValues: ['frontend', 'backend', 'data', 'sandbox'] },
  ],
  dns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } },
  platformGroups: ['system:masters'],
  ephemeralLabels: [
    'pod-template-hash',
    'controller-revision-hash',
    'statefulset.kubernetes.io/pod-name',
    'batch.kubernetes.io/controller-uid',
    'controller-uid',
    'apps.kubernetes.io/pod-index',
  ],
  approverGroups: ['netguard:approvers'],
  controllerServiceAccount: 'system:serviceaccount:netguard-system:netguard-controller',
} as const;

/** The required labels' keys and aliases: stable labels a waiver's selector may name. */
export function requiredLabelKeys(policy: Policy): string[] {
  return policy.requiredLabels.flatMap((label) => [label.key, ...(label.aliases ?? [])]);
}

export function patternToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: ${text}`); // the schema already refused it
  return ms;
}

/**
 * Turns a validated document into the Policy the engine reads. Cross-field problems
 * (duplicate environments, unknown rule IDs) come back as `path: problem` lines.
 */
export function compilePolicy(
  doc: GuardrailPolicyDocument,
  rules: ReadonlyMap<string, RuleDefaults>,
): { policy: Policy } | { problems: string[] } {
  const spec = doc.spec;
  const problems: string[] = [];
  const environments: Environment[] = [];
  const seen = new Set<string>();
  spec.environments.forEach((env, index) => {
    if (seen.has(env.name))
      problems.push(`spec.environments[${index}].name: duplicate environment "${env.name}"`);
    seen.add(env.name);
    const maxDuration = env.exceptionMaxDuration ?? DEFAULTS.exceptionMaxDuration;
    environments.push({
      name: env.name,
      mode: env.mode,
      patterns: (env.namespaces ?? []).map(patternToRegExp),
      selector: env.selector,
      exceptionMaxDuration: maxDuration,
      exceptionMaxDurationMs: durationMs(maxDuration),
    });
  });
  const byName = new Map(environments.map((env) => [env.name, env]));
  const defaultName = spec.defaultEnvironment ?? spec.environments[0]?.name ?? '';
  const defaultEnvironment = byName.get(defaultName);
  if (defaultEnvironment === undefined) {
    problems.push(
      `spec.defaultEnvironment: "${defaultName}" is not one of the environments (${[...byName.keys()].join(', ')})`,
    );
  }
  const overrides = new Map<string, Map<string, Level>>();
  for (const [id, override] of Object.entries(spec.rules ?? {})) {
    if (!rules.has(id)) {
      problems.push(`spec.rules.${id}: unknown rule ID (known: ${[...rules.keys()].join(', ')})`);
      continue;
    }
    const perEnvironment = new Map<string, Level>();
    for (const env of environments) {
      const level = override.levels?.[env.name] ?? override.level;
      if (level !== undefined) perEnvironment.set(env.name, level);
    }
    for (const name of Object.keys(override.levels ?? {})) {
      if (!byName.has(name)) problems.push(`spec.rules.${id}.levels.${name}: unknown environment`);
    }
    overrides.set(id, perEnvironment);
  }
  const np = spec.networkPolicies ?? {};
  const written = {
    approvedEgressCIDRs: np.approvedEgressCIDRs ?? [],
    privateCIDRs: np.privateCIDRs ?? [],
    clusterCIDRs: np.clusterCIDRs === 'auto' ? [] : (np.clusterCIDRs ?? []),
  };
  for (const field of ['approvedEgressCIDRs', 'privateCIDRs', 'clusterCIDRs'] as const) {
    written[field].forEach((text, index) => {
      if (parseCidr(text) === undefined) {
        problems.push(
          `spec.networkPolicies.${field}[${index}]: "${text}" is not a CIDR block such as 10.244.0.0/16 or fd00::/8`,
        );
      }
    });
  }
  if (problems.length > 0 || defaultEnvironment === undefined) return { problems };

  return {
    policy: {
      name: doc.metadata?.name ?? 'default',
      excludedNamespaces: new Set(spec.excludedNamespaces ?? DEFAULTS.excludedNamespaces),
      environments,
      defaultEnvironment,
      requiredLabels: spec.pods?.requiredLabels ?? DEFAULTS.requiredLabels,
      networkPolicies: {
        approvedEgressCIDRs: written.approvedEgressCIDRs,
        approvedEgressFQDNs: np.approvedEgressFQDNs ?? [],
        privateCIDRs: written.privateCIDRs,
        privateRanges: parseCidrList(written.privateCIDRs),
        clusterCIDRs: written.clusterCIDRs,
        clusterCIDRsAuto: np.clusterCIDRs === undefined || np.clusterCIDRs === 'auto',
        approvedEgressRanges: parseCidrList(written.approvedEgressCIDRs),
        clusterRanges: parseCidrList(written.clusterCIDRs),
        limits: { ...DEFAULT_LIMITS, ...np.limits },
        dns: np.dns ?? DEFAULTS.dns,
        ephemeralLabels: np.ephemeralLabels ?? DEFAULTS.ephemeralLabels,
      },
      exceptions: {
        warnBeforeMs: durationMs(spec.exceptions?.warnBefore ?? DEFAULTS.warnBefore),
        approverGroups: spec.exceptions?.approverGroups ?? DEFAULTS.approverGroups,
      },
      trust: {
        controllerUsers: spec.trust?.controllerUsers ?? [],
        controllerGroups: spec.trust?.controllerGroups ?? [],
      },
      controllerServiceAccount:
        spec.controller?.serviceAccount ?? DEFAULTS.controllerServiceAccount,
      ruleDefaults: [...rules.values()],
      platform: {
        users: spec.platform?.users ?? [],
        groups: spec.platform?.groups ?? DEFAULTS.platformGroups,
      },
      levelOf(rule, env) {
        const level = overrides.get(rule.id)?.get(env.name) ?? rule.levels[env.mode];
        // observe never denies a guardrail; rules that deny even in observe (NP011, EX*) protect netguard itself.
        if (env.mode === 'observe' && level === 'deny' && rule.levels.observe !== 'deny')
          return 'warn';
        return level;
      },
    },
  };
}
