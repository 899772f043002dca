import { terminalSafe } from '../text.ts';
import type { NamespaceCuts } from '../reach/advise.ts';
import type {
  AuditFinding,
  AuditReport,
  EnvironmentReadiness,
  NamespaceReport,
  RuleGroup,
} from './scan.ts';

/** `netguard audit --output json`: the report as it is, one document. */
export function renderAuditJson(report: AuditReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

// Object names come from the cluster: printed without terminal control characters.
const plural = (count: number, word: string, many = `${word}s`): string =>
  `${count} ${count === 1 ? word : many}`;

function cniLines(report: AuditReport): string[] {
  const { cni } = report;
  if (cni.warning !== undefined) {
    const bar = '!'.repeat(78);
    return [
      bar,
      `!! WARNING: ${cni.warning}`,
      ...cni.found.map(
        (entry) =>
          `!!   ${entry.name} (${entry.daemonSet})${entry.note === undefined ? '' : `: ${entry.note}`}`,
      ),
      bar,
    ];
  }
  const enforcing = cni.found.filter((entry) => entry.enforces);
  return [
    `CNI: ${enforcing.map((entry) => `${entry.name} (${entry.daemonSet})`).join(', ')} enforces NetworkPolicy.`,
  ];
}

function findingLine(finding: AuditFinding): string[] {
  // The message's own note names the waiver and its expiry; the tag makes waived lines easy to scan for.
  const waived = finding.waivedBy === undefined ? '' : ' [waived]';
  const lines = [
    `      ${finding.level} ${terminalSafe(`${finding.kind} ${finding.name}`)} at ${terminalSafe(finding.path)}${waived}`,
    `           ${terminalSafe(finding.message)}`,
  ];
  if (finding.hint !== undefined) lines.push(`           hint: ${finding.hint}`);
  return lines;
}

function ruleLines(group: RuleGroup): string[] {
  const counts = [
    group.deny > 0 ? `${group.deny} deny` : '',
    group.warn > 0 ? `${group.warn} warn` : '',
  ]
    .filter((part) => part !== '')
    .join(', ');
  return [`    ${group.rule} ${group.name} (${counts})`, ...group.findings.flatMap(findingLine)];
}

function namespaceLines(ns: NamespaceReport): string[] {
  const verdict =
    ns.objects === 0
      ? 'no workloads or policies'
      : `${plural(ns.objects, 'object')}: ${ns.denied} would be denied, ${ns.warned} warned`;
  const baseline =
    ns.baselineMissing.length === 0 ? '' : `; baseline missing: ${ns.baselineMissing.join(', ')}`;
  const label =
    ns.ignoredEnvironmentLabel === undefined
      ? ''
      : `; label netguard.dev/environment=${terminalSafe(ns.ignoredEnvironmentLabel)} ignored (no approved NS003 waiver)`;
  return [
    `  ${terminalSafe(ns.name)} (${ns.environment}, ${ns.mode}) — ${verdict}${baseline}${label}`,
    ...ns.rules.flatMap(ruleLines),
  ];
}

function readinessLines(env: EnvironmentReadiness): string[] {
  const head = `  ${env.environment} (${env.mode}${env.nextMode === null ? '' : ` → ${env.nextMode}`}): ${plural(env.namespaces.length, 'namespace')}, ${plural(env.objects, 'object')}`;
  const lines = [head];
  if (env.nextMode === null)
    lines.push(`    already enforcing: ${env.deniedNow} would be denied today.`);
  else {
    const rules = Object.entries(env.nextModeDenialsByRule)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([rule, count]) => `${rule}×${count}`);
    lines.push(
      `    in ${env.nextMode}: ${plural(env.deniedInNextMode ?? 0, 'object')} would be denied${rules.length > 0 ? ` (${rules.join(', ')})` : ''}; today: ${env.deniedNow}.`,
    );
  }
  const target = env.nextMode ?? env.mode;
  if (env.withoutBaseline.length === 0)
    lines.push(`    every namespace has the ${target} baseline.`);
  else {
    lines.push(
      `    without the ${target} baseline (annotate them; NS001 only sets it on new namespaces):`,
    );
    for (const entry of env.withoutBaseline)
      lines.push(`      ${terminalSafe(entry.namespace)}: needs ${entry.missing.join(', ')}`);
  }
  return lines;
}

const TOP = 5;

/** The few rules and namespaces that account for most denials, ahead of thousands of detail lines. */
export function fixFirstLines(report: AuditReport): string[] {
  const rules = new Map<
    string,
    { name: string; deny: number; warn: number; namespaces: Set<string> }
  >();
  for (const ns of report.namespaces) {
    for (const group of ns.rules) {
      const entry = rules.get(group.rule) ?? {
        name: group.name,
        deny: 0,
        warn: 0,
        namespaces: new Set<string>(),
      };
      entry.deny += group.deny;
      entry.warn += group.warn;
      if (group.deny > 0) entry.namespaces.add(ns.name);
      rules.set(group.rule, entry);
    }
  }
  const denying = [...rules.entries()]
    .filter(([, entry]) => entry.deny > 0)
    .sort(([a, x], [b, y]) => y.deny - x.deny || a.localeCompare(b));
  const nextStep = new Map<string, number>();
  for (const env of report.environments) {
    for (const [rule, count] of Object.entries(env.nextModeDenialsByRule))
      nextStep.set(rule, (nextStep.get(rule) ?? 0) + count);
  }
  const namespaces = report.namespaces
    .filter((ns) => ns.denied > 0)
    .sort((a, b) => b.denied - a.denied || a.name.localeCompare(b.name));
  if (denying.length === 0 && nextStep.size === 0)
    return ['Fix first: nothing would be denied today or after the next promotion.'];
  const lines = ['Fix first (most denials first; details below):'];
  denying.slice(0, TOP).forEach(([rule, entry], index) => {
    lines.push(
      `  ${index + 1}. ${rule} ${entry.name}: ${plural(entry.deny, 'finding')} would be denied today in ${plural(entry.namespaces.size, 'namespace')}`,
    );
  });
  if (denying.length > TOP) lines.push(`  … and ${plural(denying.length - TOP, 'more rule')}`);
  if (namespaces.length > 0) {
    const top = namespaces.slice(0, TOP).map((ns) => `${terminalSafe(ns.name)} (${ns.denied})`);
    lines.push(
      `  Namespaces with most denied objects: ${top.join(', ')}${namespaces.length > TOP ? `, … ${namespaces.length - TOP} more` : ''}`,
    );
  }
  const upcoming = [...nextStep.entries()]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, TOP);
  if (upcoming.length > 0)
    lines.push(
      `  Blocking the next promotion: ${upcoming.map(([rule, count]) => `${rule}×${count}`).join(', ')}`,
    );
  return lines;
}

/** For people: the CNI verdict first (it decides whether any of this matters), what to fix first, then namespaces, readiness, summary. */
export function renderAuditText(report: AuditReport): string {
  const s = report.summary;
  const lines = [
    ...cniLines(report),
    '',
    ...fixFirstLines(report),
    '',
    'Findings by namespace and rule (what each object would get if applied today):',
    ...report.namespaces.flatMap(namespaceLines),
    '',
    'Promotion readiness:',
    ...report.environments.flatMap(readinessLines),
    ...report.notes.map((note) => `note: ${note}`),
    '',
    `${plural(s.objects, 'object')} in ${plural(s.namespaces, 'namespace')}: ${s.denied} would be denied, ${s.warned} admitted with warnings; ${s.reportedAtOwner} reported at their workload; ${plural(s.baselinePolicies, 'netguard baseline policy', 'netguard baseline policies')} and ${plural(s.excludedNamespaces, 'excluded namespace')} skipped.`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `audit --flows`: one line per namespace with the observed flows its enforce baseline would cut. */
export function renderFlowCutsText(cuts: readonly NamespaceCuts[]): string {
  const lines = [
    'Observed flows the enforce baseline would cut (netguard advise --flows proposes policies that keep them):',
  ];
  for (const ns of cuts)
    lines.push(
      `  ${terminalSafe(ns.namespace)}: ${ns.cut} of ${plural(ns.observed, 'observed flow')} would be cut`,
    );
  if (cuts.length === 0) lines.push('  no observed flow names a judged namespace.');
  return `${lines.join('\n')}\n`;
}
