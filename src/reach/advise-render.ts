import { terminalSafe } from '../text.ts';
import { stringify } from 'yaml';
import type { Advice, JudgedFlow, ProposalCheck, RuleBacking } from './advise.ts';

const flowName = (f: JudgedFlow): string =>
  `${terminalSafe(f.from)} → ${terminalSafe(f.to)} ${f.protocol}/${f.port}`;

function cutBy(f: JudgedFlow): string {
  const sides = [
    f.enforced.egress.allowed ? '' : `egress (${f.enforced.egress.policies.join(', ')})`,
    f.enforced.ingress.allowed ? '' : `ingress (${f.enforced.ingress.policies.join(', ')})`,
  ].filter((s) => s !== '');
  return sides.join(' and ');
}

/** YAML comment lines naming each rule a proposal meets, so a reviewer sees them before applying it. */
function checkComments(check: ProposalCheck | undefined): string {
  if (check === undefined || check.findings.length === 0) return '';
  const where = `environment ${check.environment ?? '?'}, mode ${check.mode ?? '?'}`;
  const head = check.allowed
    ? `# netguard check admits this with warnings (${where}):`
    : `# netguard check would DENY this as written (${where}):`;
  const lines = check.findings.map(
    (f) => `#   ${f.rule} (${f.level}) at ${terminalSafe(f.path)}: ${terminalSafe(f.message)}`,
  );
  const approvals = check.approvals.map((a) => `#   needs: ${terminalSafe(a)}`);
  return `${[head, ...lines, ...approvals].join('\n')}\n`;
}

/** Only the proposed policies, as a multi-document YAML stream (`advise --output yaml`); rules met are YAML comments. */
export function renderProposalsYaml(advice: Advice): string {
  return advice.proposals
    .map(
      (policy, index) =>
        `---\n${checkComments(advice.checks[index])}${stringify(policy, { lineWidth: 0 })}`,
    )
    .join('');
}

export function renderAdviceJson(advice: Advice): string {
  return `${JSON.stringify(advice, null, 2)}\n`;
}

function captureLines(advice: Advice): string[] {
  const { lostEvents, unavailableNodes } = advice.capture;
  if (advice.capture.complete) return [];
  return [
    'CAPTURE INCOMPLETE: flows are missing from it, so enforce may cut dependencies this report does not show.',
    ...(lostEvents > 0
      ? [
          `  Hubble lost ${lostEvents} event${lostEvents === 1 ? '' : 's'} (lost_events records): raise the ring buffer (hubble.eventBufferCapacity) or capture per namespace, and record again.`,
        ]
      : []),
    ...(unavailableNodes.length > 0
      ? [`  Nodes Hubble Relay could not read: ${unavailableNodes.map(terminalSafe).join(', ')}.`]
      : []),
    '',
  ];
}

function backingLine(b: RuleBacking): string {
  const observed = b.observed.map(terminalSafe).join(', ');
  const opens =
    b.opens === undefined ? '' : `\n    OPENS MORE THAN OBSERVED: ${terminalSafe(b.opens)}`;
  return `  ${terminalSafe(b.policy)} ${b.direction} ${b.direction === 'ingress' ? 'from' : 'to'} ${terminalSafe(b.peer)} on ${b.ports}: ${b.flows} flow${b.flows === 1 ? '' : 's'} (${b.direction === 'ingress' ? 'from' : 'to'} ${observed})${opens}`;
}

function approvalLines(advice: Advice): string[] {
  const needing = advice.checks.filter((c) => c.approvals.length > 0 || !c.allowed);
  if (needing.length === 0) return [];
  return [
    '',
    'Proposals netguard would deny as written (printed anyway; each needs an approval before it applies):',
    ...needing.flatMap((c) => [
      `  ${terminalSafe(c.proposal)}: ${c.findings
        .filter((f) => f.level === 'deny')
        .map((f) => f.rule)
        .join(', ')}`,
      ...c.approvals.map((a) => `    ${terminalSafe(a)}`),
    ]),
  ];
}

export function renderAdviceText(advice: Advice): string {
  const cut = advice.flows.filter((f) => !f.enforced.allowed);
  const deniedToday = advice.flows.filter((f) => !f.today.allowed);
  const lines = [
    ...captureLines(advice),
    `${advice.flows.length} distinct observed flows; ${advice.allowedToday} allowed by today's NetworkPolicies.`,
    ...deniedToday.map(
      (f) => `  denied today: ${flowName(f)}${f.dropped ? ' (dropped; not proposed)' : ''}`,
    ),
    '',
    cut.length === 0
      ? 'Enforce would cut none of them.'
      : `Enforce would cut ${cut.length} of them (the outage you avoid):`,
    ...cut.map((f) => `  ${flowName(f)}: cut at ${cutBy(f)}`),
    ...(advice.entityCuts.length === 0
      ? []
      : [
          '',
          'Cuts at the API server and nodes (not fixed by a NetworkPolicy selector):',
          ...advice.entityCuts.map((line) => `  ${terminalSafe(line)}`),
        ]),
    '',
    'Per namespace (flows leaving or entering it / cut by its enforce baseline):',
    ...advice.namespaces.map(
      (ns) => `  ${terminalSafe(ns.namespace)}: ${ns.observed} observed, ${ns.cut} would be cut`,
    ),
    '',
    `${advice.proposals.length} proposed policies (print only them: --output yaml; then netguard check -f FILE):`,
    renderProposalsYaml(advice).trimEnd(),
    '',
    'What backs each proposed rule (observe-time probes become rules too: drop any you do not recognise):',
    ...advice.backing.map(backingLine),
    ...approvalLines(advice),
    ...(advice.refused.length === 0
      ? []
      : ['', 'Not proposed:', ...advice.refused.map((r) => `  ${terminalSafe(r)}`)]),
    ...advice.notes.map((note) => `note: ${terminalSafe(note)}`),
  ];
  return `${lines.join('\n')}\n`;
}
