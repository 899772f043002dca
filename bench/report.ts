import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Results, ScenarioRow } from './results.ts';
import type { SideSummary } from './summary.ts';

export const RESULTS_JSON = 'bench/results.json';
export const PERFORMANCE_DOC = 'docs/performance.md';
const START = '<!-- bench:results:start (written by npm run bench; edit outside the markers) -->';
const END = '<!-- bench:results:end -->';

const f0 = (n: number): string => Math.round(n).toLocaleString('en-US');
const f2 = (n: number): string => n.toFixed(2);
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

function pair(ng: number, bare: number, format: (n: number) => string): string {
  return `${format(ng)} / ${format(bare)}`;
}

function cells(row: ScenarioRow): string[] {
  const { netguard: ng, bare } = row;
  return [
    row.title,
    String(row.connections),
    kb(row.bodyBytes),
    f0(ng.rps),
    f0(bare.rps),
    f2(row.ratio),
    pair(ng.p50Ms, bare.p50Ms, f2),
    pair(ng.p99Ms, bare.p99Ms, f2),
    pair(ng.maxMs, bare.maxMs, (n) => n.toFixed(1)),
    pair(ng.cpuMicrosPerRequest, bare.cpuMicrosPerRequest, f0),
    pair(ng.maxRssMB, bare.maxRssMB, f0),
    `${ng.errors + bare.errors} / ${ng.wrong}`,
  ];
}

const HEADERS = [
  'scenario',
  'conns',
  'body',
  'netguard req/s',
  'bare req/s',
  'ratio',
  'p50 ms (ng / bare)',
  'p99 ms (ng / bare)',
  'max ms (ng / bare)',
  'server CPU µs/req (ng / bare)',
  'peak RSS MB (ng / bare)',
  'errors / wrong',
];

function fixedRateLines(results: Results): string[] {
  if (results.fixedRate.length === 0) return [];
  const line = (name: string, side: SideSummary): string =>
    `| ${name} | ${f0(side.rps)} | ${f2(side.p50Ms)} | ${f2(side.p99Ms)} | ${side.maxMs.toFixed(1)} | ${f0(side.cpuMicrosPerRequest)} | ${f0(side.maxRssMB)} | ${side.errors} / ${side.wrong} | ${f2(side.sendLagP99Ms ?? 0)} |`;
  return [
    "Fixed rate, mix, open loop (requests leave on schedule), up to 32 connections: first half the bare endpoint's mix throughput, then 1,000 req/s:",
    '',
    '| rate | server | req/s | p50 ms | p99 ms | max ms | CPU µs/req | peak RSS MB | errors / wrong | client send lag p99 ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.fixedRate.flatMap((fixed) => [
      `| ${f0(fixed.rate)} ${line('netguard', fixed.netguard)}`,
      `| ${f0(fixed.rate)} ${line('bare', fixed.bare)}`,
    ]),
  ];
}

function soakLines(results: Results): string[] {
  const soak = results.soak;
  if (!soak) return ['Soak: not run (`npm run bench -- --soak`).'];
  return [
    `Soak (${soak.at}): ${soak.seconds} s at ${f0(soak.rate)} req/s, mix: RSS ${f0(soak.rssWarmMB)} MB after the first minute, ${f0(soak.rssEndMB)} MB at the end, drift ${soak.driftPct.toFixed(1)}%; p99 ${f2(soak.netguard.p99Ms)} ms, ${soak.netguard.errors} errors, ${soak.netguard.wrong} wrong verdicts.`,
  ];
}

/** The Markdown that goes between the markers of docs/performance.md. */
export function markdownSection(results: Results): string {
  const m = results.machine;
  const notes = results.rows.flatMap((row) => row.notes.map((note) => `- ${row.title}: ${note}`));
  return [
    `Run ${results.at} (${results.plan} plan) on ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB, ${m.os}, Node ${m.node}. Load generator on the same machine.`,
    `netguard: \`${results.servers.netguard}\`; bare: \`${results.servers.bare}\`.`,
    '',
    `| ${HEADERS.join(' | ')} |`,
    `| ${HEADERS.map(() => '---').join(' | ')} |`,
    ...results.rows.map((row) => `| ${cells(row).join(' | ')} |`),
    '',
    ...(notes.length > 0 ? ['Verdict notes:', ...notes, ''] : []),
    `Other processes on the machine used up to ${Math.round(Math.max(0, ...results.rows.flatMap((row) => [row.netguard.foreignCpuPct, row.bare.foreignCpuPct])))}% of a core during the measured runs (runs above ${20}% were repeated, at most twice).`,
    '',
    ...fixedRateLines(results),
    '',
    ...soakLines(results),
    '',
    'Targets (issues 7 and 13):',
    '',
    '| target | measured | met |',
    '| --- | --- | --- |',
    ...results.targets.map(
      (check) => `| ${check.target} | ${check.measured} | ${check.met ? 'yes' : '**no**'} |`,
    ),
  ].join('\n');
}

/** A plain-text table for the terminal. */
export function consoleTable(results: Results): string {
  const rows = [HEADERS, ...results.rows.map(cells)];
  const widths = HEADERS.map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? '').length)),
  );
  const text = rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  return [text[0] ?? '', widths.map((w) => '-'.repeat(w)).join('  '), ...text.slice(1)].join('\n');
}

export function writeResults(results: Results): void {
  writeFileSync(RESULTS_JSON, `${JSON.stringify(results, null, 2)}\n`);
}

/** Replaces what lies between the markers; a missing doc or missing markers get a fresh section at the end. */
export function updatePerformanceDoc(section: string): void {
  const block = `${START}\n${section}\n${END}`;
  const text = existsSync(PERFORMANCE_DOC)
    ? readFileSync(PERFORMANCE_DOC, 'utf8')
    : '# Performance\n';
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  const next =
    from >= 0 && to > from
      ? `${text.slice(0, from)}${block}${text.slice(to + END.length)}`
      : `${text.trimEnd()}\n\n## Results\n\n${block}\n`;
  writeFileSync(PERFORMANCE_DOC, next);
}

/** The soak of an earlier run, kept when this run has none. */
export function previousSoak(): Results['soak'] {
  if (!existsSync(RESULTS_JSON)) return undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(RESULTS_JSON, 'utf8'));
    const soak: unknown =
      parsed !== null && typeof parsed === 'object' ? Reflect.get(parsed, 'soak') : undefined;
    return soak !== null && typeof soak === 'object' ? (soak as Results['soak']) : undefined;
  } catch {
    return undefined;
  }
}
