import { terminalSafe } from '../text.ts';
import { stringify } from 'yaml';
import type { Advice, JudgedFlow } from './advise.ts';

const flowName = (f: JudgedFlow): string =>
  `${terminalSafe(f.from)} → ${terminalSafe(f.to)} ${f.protocol}/${f.port}`;

function cutBy(f: JudgedFlow): string {
  const sides = [
    f.enforced.egress.allowed ? '' : `egress (${f.enforced.egress.policies.join(', ')})`,
    f.enforced.ingress.allowed ? '' : `ingress (${f.enforced.ingress.policies.join(', ')})`,
  ].filter((s) => s !== '');
  return sides.join(' and ');
}

/** Only the proposed policies, as a multi-document YAML stream (`advise --output yaml`). */
export function renderProposalsYaml(advice: Advice): string {
  return advice.proposals.map((policy) => `---\n${stringify(policy, { lineWidth: 0 })}`).join('');
}

export function renderAdviceJson(advice: Advice): string {
  return `${JSON.stringify(advice, null, 2)}\n`;
}

export function renderAdviceText(advice: Advice): string {
  const cut = advice.flows.filter((f) => !f.enforced.allowed);
  const deniedToday = advice.flows.filter((f) => !f.today.allowed);
  const lines = [
    `${advice.flows.length} distinct observed flows; ${advice.allowedToday} allowed by today's NetworkPolicies.`,
    ...deniedToday.map(
      (f) => `  denied today: ${flowName(f)}${f.dropped ? ' (dropped; not proposed)' : ''}`,
    ),
    '',
    cut.length === 0
      ? 'Enforce would cut none of them.'
      : `Enforce would cut ${cut.length} of them (the outage you avoid):`,
    ...cut.map((f) => `  ${flowName(f)}: cut at ${cutBy(f)}`),
    '',
    'Per namespace (flows leaving or entering it / cut by its enforce baseline):',
    ...advice.namespaces.map(
      (ns) => `  ${terminalSafe(ns.namespace)}: ${ns.observed} observed, ${ns.cut} would be cut`,
    ),
    '',
    `${advice.proposals.length} proposed NetworkPolicies (print only them: --output yaml; then netguard check -f FILE):`,
    renderProposalsYaml(advice).trimEnd(),
    ...advice.notes.map((note) => `note: ${terminalSafe(note)}`),
  ];
  return `${lines.join('\n')}\n`;
}
