import { writeFileSync } from 'node:fs';
import type { Rule } from '../engine/types.ts';
import { RULES } from './registry.ts';
import { MODES } from '../vocabulary.ts';

export const RULES_DOC_PATH = 'docs/rules.md';

/** A mutation (NS001) has no operations of its own to judge and no levels to show. */
const isMutation = (rule: Rule): boolean => rule.operations.length === 0;

function judges(rule: Rule): string {
  const kinds = rule.kinds.join(', ');
  return isMutation(rule)
    ? `${kinds} (mutating webhook)`
    : `${kinds} on ${rule.operations.join(', ')}`;
}

function levels(rule: Rule): string[] {
  return isMutation(rule) ? MODES.map(() => '—') : MODES.map((mode) => rule.levels[mode]);
}

function summaryTable(rules: readonly Rule[]): string[] {
  return [
    '| ID | name | judges | observe | constrain | enforce |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rules.map(
      (rule) =>
        `| [${rule.id}](#${rule.id.toLowerCase()}-${rule.name}) | ${rule.name} | ${judges(rule)} | ${levels(rule).join(' | ')} |`,
    ),
  ];
}

const example = (title: string, manifest: string): string[] => [
  `**${title}**`,
  '',
  '```yaml',
  manifest.trimEnd(),
  '```',
  '',
];

function section(rule: Rule): string[] {
  const { doc } = rule;
  const lines = [
    `## ${rule.id} ${rule.name}`,
    '',
    `Judges ${judges(rule)}. Default levels: ${MODES.map((mode, i) => `${mode} ${levels(rule)[i]}`).join(', ')}.`,
    '',
  ];
  // Rules still being written (empty docs) get a placeholder rather than empty headings.
  if (doc.checks === '') return [...lines, '_Not documented yet._', ''];
  lines.push(
    `**What it checks.** ${doc.checks}`,
    '',
    `**The failure it prevents.** ${doc.prevents}`,
    '',
    `**How to fix it.** ${doc.fix}`,
    '',
  );
  if (doc.fires !== '') lines.push(...example('Fires:', doc.fires));
  if (doc.passes !== '') lines.push(...example('Passes:', doc.passes));
  return lines;
}

/** docs/rules.md, generated from the registry: the single source of what each rule does. */
export function renderRulesDoc(rules: readonly Rule[] = RULES): string {
  return [
    '# Rules',
    '',
    '<!-- Generated from src/rules/registry.ts by `npm run docs`; edit the rule files, not this page. -->',
    '',
    'Every rule netguard knows, with its default level in each mode. `policies/guardrails.yaml` can override a',
    "rule's level per environment or turn it off (`spec.rules`). In observe a rule never denies, except the ones",
    'whose own observe level is deny (they protect netguard itself). `netguard check` shows the same findings offline.',
    '',
    ...summaryTable(rules),
    '',
    ...rules.flatMap(section),
  ].join('\n');
}

if (import.meta.main) {
  writeFileSync(RULES_DOC_PATH, renderRulesDoc());
  process.stdout.write(`wrote ${RULES_DOC_PATH}\n`);
}
