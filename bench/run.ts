// npm run bench [-- --quick] [-- --soak] [-- --only pod-allowed,mix]
// netguard and a bare Fastify HTTPS endpoint, side by side on this machine; see docs/performance.md.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeLocalCertificates } from '../src/server/tls.ts';
import { writeExceptionsFile } from './exceptions-file.ts';
import { probeExpectations } from './expectations.ts';
import { describeMachine } from './machine.ts';
import { FULL, QUICK, SOAK_SECONDS } from './plan.ts';
import { consoleTable, markdownSection, previousSoak, updatePerformanceDoc, writeResults, RESULTS_JSON, PERFORMANCE_DOC } from './report.ts';
import { checkTargets, type Results, type ScenarioRow } from './results.ts';
import { buildScenarios } from './scenarios.ts';
import { startServer, type ServerProcess } from './server-process.ts';
import { soak } from './soak.ts';
import { fixedRateRow, measureScenario, type Bench } from './suite.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    soak: { type: 'boolean', default: false },
    'soak-seconds': { type: 'string' },
    only: { type: 'string' },
  },
});
const plan = flags.quick ? QUICK : FULL;
const soakSeconds = Math.min(3_600, Math.max(10, Number(flags['soak-seconds'] ?? SOAK_SECONDS) || SOAK_SECONDS));
const only = flags.only?.split(',').map((id) => id.trim()).filter(Boolean);
// Quick and partial runs print only; the table in docs/ always comes from a full run.
const writes = !flags.quick && only === undefined;
// Bound the whole run: the full suite needs about 7 minutes; the soak adds its own length.
const WATCHDOG_MS = (flags.quick ? 5 : 15) * 60_000 + (flags.soak ? soakSeconds * 1000 : 0);

const log = (line: string): void => console.log(line);
const servers: ServerProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'netguard-bench-'));

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 60_000} minutes; stopping`);
  for (const server of servers) process.kill(server.pid, 'SIGKILL');
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

async function main(): Promise<void> {
  const machine = describeMachine();
  log(`netguard bench (${plan.name}) on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`);
  writeLocalCertificates(dir);
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const exceptions = writeExceptionsFile(dir, new Date());
  const bare = await startServer('bare', { certs: dir, exceptions });
  servers.push(bare);
  const netguard = await startServer('netguard', { certs: dir, exceptions });
  servers.push(netguard);

  const scenarios = buildScenarios().filter((scenario) => only === undefined || only.includes(scenario.id));
  const mix = buildScenarios().find((scenario) => scenario.id === 'mix');
  if (mix === undefined) throw new Error('no mix scenario');
  const expectations = await probeExpectations(`https://127.0.0.1:${netguard.port}`, ca, [...scenarios, mix]);
  for (const [id, { note }] of expectations) if (note !== undefined) log(`note: ${id}: ${note}`);
  const bench: Bench = { plan, ca, servers: { bare, netguard }, expectations, log };

  const rows: ScenarioRow[] = [];
  const [main32 = 32, ...others] = plan.connections;
  for (const scenario of scenarios) rows.push(await measureScenario(bench, scenario, main32));
  if (scenarios.includes(mix)) for (const connections of others) rows.push(await measureScenario(bench, mix, connections));

  const bareMix = rows.find((row) => row.id === 'mix' && row.connections === main32)?.bare.rps;
  const rate = Math.round((bareMix ?? 0) / 2);
  const fixedRate = rate > 0 ? await fixedRateRow(bench, mix, rate) : undefined;
  const soakResult = flags.soak && rate > 0 ? await soak(bench, mix, rate, soakSeconds) : writes ? previousSoak() : undefined;

  const results: Results = { at: new Date().toISOString(), plan: plan.name, machine, rows, fixedRate, soak: soakResult, targets: checkTargets(rows, fixedRate, soakResult) };
  log('');
  log(consoleTable(results));
  log('');
  if (fixedRate) {
    for (const [name, side] of [['netguard', fixedRate.netguard], ['bare', fixedRate.bare]] as const) {
      log(`fixed rate ${rate} req/s, ${name}: p50 ${side.p50Ms.toFixed(2)} ms, p99 ${side.p99Ms.toFixed(2)} ms, max ${side.maxMs.toFixed(1)} ms, ${Math.round(side.cpuMicrosPerRequest)} µs/req`);
    }
  }
  if (soakResult) log(`soak: ${soakResult.seconds} s at ${Math.round(soakResult.rate)} req/s, RSS ${soakResult.rssWarmMB.toFixed(1)} → ${soakResult.rssEndMB.toFixed(1)} MB (${soakResult.driftPct.toFixed(1)}%), p99 ${soakResult.netguard.p99Ms.toFixed(2)} ms`);
  for (const check of results.targets) log(`${check.met ? 'met    ' : 'NOT MET'}  ${check.target}: ${check.measured}`);
  if (writes) {
    writeResults(results);
    updatePerformanceDoc(markdownSection(results));
    log(`\nwrote ${RESULTS_JSON} and the table in ${PERFORMANCE_DOC}`);
  } else {
    log('\n(quick or partial run: bench/results.json and docs/performance.md left as they were)');
  }
}

try {
  await main();
} finally {
  await Promise.allSettled(servers.map((server) => server.stop()));
  rmSync(dir, { recursive: true, force: true });
  clearTimeout(watchdog);
}
