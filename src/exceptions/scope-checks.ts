import type { RawFinding } from '../engine/types.ts';
import { isPodKind, NETGUARD_NAMESPACE } from '../vocabulary.ts';
import { isEmptySelector } from './matching.ts';
import type { ExceptionDraft } from '../model/guardrail-exception.ts';
import { SERVED_KINDS } from '../model/kinds.ts';
import { hasEqualityRequirement } from '../semantics/selectors.ts';

/** The guardrails a waiver may name and the kinds each judges (rules/guardrails.ts's map, handed in). */
export type WaivableRules = ReadonlyMap<string, { readonly kinds: readonly string[] }>;

const waivable = new WeakMap<WaivableRules, readonly string[]>();

/**
 * The kinds a waiver may target, spelled exactly as Kubernetes spells them: the kinds the
 * guardrails judge (GuardrailExceptions aside: EX rules cannot be waived), in the kinds table's
 * order. The CRD schema enumerates the same list.
 */
export function waivableKinds(guardrails: WaivableRules): readonly string[] {
  const known = waivable.get(guardrails);
  if (known !== undefined) return known;
  const judged = new Set([...guardrails.values()].flatMap((rule) => rule.kinds));
  const kinds = [...new Set(SERVED_KINDS.map((row) => row.judgedAs))].filter((kind) =>
    judged.has(kind),
  );
  waivable.set(guardrails, kinds);
  return kinds;
}

const knownIds = (guardrails: WaivableRules): string => [...guardrails.keys()].join(', ');
// The EX rules guard the waivers themselves; they are named here, not imported, since the registry lists this rule.
const WAIVER_RULE_IDS: ReadonlySet<string> = new Set(['EX001', 'EX002', 'EX003', 'EX004']);

function judgeRules(
  rules: readonly unknown[] | undefined,
  guardrails: WaivableRules,
): {
  findings: RawFinding[];
  ids: string[];
} {
  const fix = `List the rule IDs to waive (${knownIds(guardrails)}).`;
  if (rules === undefined) {
    return {
      findings: [
        {
          path: 'spec.rules',
          message:
            'names no rule, and a waiver must say which guardrails it waives (no all-rules waivers).',
          fix,
        },
      ],
      ids: [],
    };
  }
  const findings: RawFinding[] = [];
  const ids: string[] = [];
  rules.forEach((rule, index) => {
    const path = `spec.rules[${index}]`;
    if (typeof rule === 'string' && WAIVER_RULE_IDS.has(rule)) {
      findings.push({
        path,
        message: `${rule} protects the waivers themselves and cannot be waived.`,
        fix: 'Remove it from spec.rules.',
      });
    } else if (typeof rule !== 'string' || !guardrails.has(rule)) {
      findings.push({
        path,
        message: `${JSON.stringify(rule)} is not a netguard rule ID, so the waiver cannot say what it waives.`,
        fix,
      });
    } else {
      ids.push(rule);
    }
  });
  return { findings, ids };
}

function judgeKind(
  kind: string,
  ids: readonly string[],
  namespace: string,
  guardrails: WaivableRules,
): RawFinding[] {
  const path = 'spec.target.kind';
  if (kind === '')
    return [
      {
        path,
        message: 'is missing, so the waiver would not say what it covers.',
        fix: 'Name a kind such as NetworkPolicy, Deployment or Namespace.',
      },
    ];
  // Spelled exactly: a kind written `namespace` would otherwise slip past checks keyed on `Namespace`.
  const kinds = waivableKinds(guardrails);
  if (!kinds.includes(kind)) {
    return [
      {
        path,
        message: `${JSON.stringify(kind)} is not a kind netguard judges, spelled as Kubernetes spells it.`,
        fix: `Use one of: ${kinds.join(', ')}.`,
      },
    ];
  }
  const findings: RawFinding[] = [];
  for (const id of ids) {
    const rule = guardrails.get(id);
    if (rule !== undefined && !rule.kinds.includes(kind)) {
      findings.push({
        path,
        message: `${id} never judges a ${kind}, so this waiver would waive nothing.`,
        fix: `Target one of: ${rule.kinds.join(', ')}.`,
      });
    }
  }
  const isNamespace = kind === 'Namespace';
  const home = namespace === NETGUARD_NAMESPACE;
  if (isNamespace && !home) {
    findings.push({
      path,
      message: `a Namespace waiver must live in ${NETGUARD_NAMESPACE}, since it must exist before the namespace it covers.`,
      fix: `Create it with -n ${NETGUARD_NAMESPACE}.`,
    });
  } else if (!isNamespace && home) {
    findings.push({
      path,
      message: `only Namespace waivers live in ${NETGUARD_NAMESPACE}; a waiver covers objects in its own namespace.`,
      fix: 'Create it in the namespace of the object it covers.',
    });
  }
  return findings;
}

function judgeNameOrSelector(target: NonNullable<ExceptionDraft['target']>): RawFinding[] {
  const { kind, name, selector } = target;
  const fix =
    'Give spec.target.name, or for workloads and Pods a spec.target.selector with matchLabels.';
  if (name !== undefined && selector !== undefined) {
    return [
      {
        path: 'spec.target',
        message: 'has both a name and a selector, so it is unclear what the waiver covers.',
        fix: 'Keep one of them.',
      },
    ];
  }
  if (selector === undefined) {
    return typeof name === 'string' && name !== ''
      ? []
      : [
          {
            path: 'spec.target.name',
            message: 'is missing, and a waiver must name what it covers (no cluster-wide waivers).',
            fix,
          },
        ];
  }
  if (!isPodKind(kind)) {
    return [
      {
        path: 'spec.target.selector',
        message: `a selector only picks workloads and Pods, not a ${kind || 'target without a kind'}.`,
        fix: 'Name the object in spec.target.name.',
      },
    ];
  }
  const parsed = target.labelSelector;
  if (parsed === undefined)
    return [
      {
        path: 'spec.target.selector',
        message: 'is not a label selector (matchLabels, matchExpressions).',
        fix,
      },
    ];
  if (isEmptySelector(parsed)) {
    return [
      {
        path: 'spec.target.selector',
        message: `is empty and would cover every ${kind} in the namespace.`,
        fix: 'Select the workload by its labels, e.g. matchLabels: {app: crawler}.',
      },
    ];
  }
  if (!hasEqualityRequirement(parsed)) {
    return [
      {
        path: 'spec.target.selector',
        message: `has no equality requirement (matchLabels or In), so it would cover every ${kind} in the namespace that lacks a label (NotIn, DoesNotExist and Exists only exclude or ask for presence).`,
        fix: 'Select the workload by label values, e.g. matchLabels: {app: crawler}.',
      },
    ];
  }
  return [];
}

/** EX003 on a waiver, wherever it comes from (admission, the file, the cluster cache). */
export function scopeFindings(
  draft: ExceptionDraft,
  namespace: string,
  guardrails: WaivableRules,
): RawFinding[] {
  const { findings, ids } = judgeRules(draft.rules, guardrails);
  if (draft.target === undefined) {
    return [
      ...findings,
      {
        path: 'spec.target',
        message: 'is missing, and a waiver must name what it covers (no cluster-wide waivers).',
        fix: 'Add spec.target with a kind and a name.',
      },
    ];
  }
  return [
    ...findings,
    ...judgeKind(draft.target.kind, ids, namespace, guardrails),
    ...judgeNameOrSelector(draft.target),
  ];
}
