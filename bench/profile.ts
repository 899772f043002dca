// npm run bench:profile [-- --scenario mix] [-- --seconds 15] [-- --server bare]
// Runs one server (netguard by default) under --cpu-prof with one scenario's load and prints where its CPU time goes.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeLocalCertificates } from '../src/server/tls.ts';
import { writeExceptionsFile } from './exceptions-file.ts';
import { probeExpectations } from './expectations.ts';
import { closedLoop, connectionPool } from './load.ts';
import { QUICK } from './plan.ts';
import { componentsOf, inclusiveOf, STARTUP, summariseProfile } from './profile-summary.ts';
import { buildScenarios } from './scenarios.ts';
import { netguardEntryPoint, startServer } from './server-process.ts';
import { exchangesFor, type Bench } from './suite.ts';

const { values: flags } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'mix' },
    seconds: { type: 'string', default: '15' },
    out: { type: 'string', default: join(tmpdir(), 'netguard-profiles') },
    server: { type: 'string', default: 'netguard' },
  },
});
const which = flags.server === 'bare' ? 'bare' : 'netguard';
const seconds = Math.min(120, Math.max(2, Number(flags.seconds) || 15));
const scenario = buildScenarios().find((s) => s.id === flags.scenario);
if (scenario === undefined) throw new Error(`no scenario "${flags.scenario}"`);

const dir = mkdtempSync(join(tmpdir(), 'netguard-profile-'));
mkdirSync(flags.out, { recursive: true });
writeLocalCertificates(dir);
const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
const exceptions = writeExceptionsFile(dir, new Date());
let requests = 0;
const before = new Set(readdirSync(flags.out));
const netguardMain = which === 'netguard' ? netguardEntryPoint(console.log) : '';
const netguard = await startServer(which, {
  certs: dir,
  ca,
  exceptions,
  netguardMain,
  execArgv: ['--cpu-prof', `--cpu-prof-dir=${flags.out}`],
});
try {
  const expectations = await probeExpectations(`https://127.0.0.1:${netguard.port}`, ca, [
    scenario,
  ]);
  const bench: Bench = {
    plan: QUICK,
    ca,
    servers: { netguard, bare: netguard },
    expectations,
    log: console.log,
    retryUntil: 0,
  };
  const pool = connectionPool(`https://127.0.0.1:${netguard.port}`, ca, 32);
  const load = await closedLoop(pool, exchangesFor(bench, scenario, which), {
    connections: 32,
    durationMs: seconds * 1000,
    maxRequests: 5_000_000,
  });
  await pool.close();
  requests = load.requests;
  console.log(
    `${which} ${scenario.id}: ${load.requests} requests, ${Math.round(load.rps)} req/s, p99 ${load.p99Ms.toFixed(2)} ms, ${load.errors} errors, ${load.wrong} wrong`,
  );
} finally {
  await netguard.stop();
  rmSync(dir, { recursive: true, force: true });
}

const written = readdirSync(flags.out).filter(
  (file) => file.endsWith('.cpuprofile') && !before.has(file),
);
const file = written[0];
if (file === undefined) throw new Error(`no new .cpuprofile in ${flags.out}`);
const path = join(flags.out, file);
const summary = summariseProfile(path, 30);
const pct = (n: number): string => `${n.toFixed(1).padStart(5)}%`;
console.log(
  `\n${path}: ${summary.busyMs.toFixed(0)} ms busy (idle excluded), ${((summary.busyMs * 1000) / Math.max(1, requests)).toFixed(0)} µs per request\n\nby area (self, inclusive):`,
);
for (const line of summary.byArea)
  console.log(`${pct(line.selfPct)} ${pct(line.totalPct)}  ${line.label}`);
console.log('\ntop functions (self, inclusive):');
for (const line of summary.byFunction)
  console.log(`${pct(line.selfPct)} ${pct(line.totalPct)}  ${line.label}`);
console.log('\nµs of server CPU per review, by component (issue 13):');
for (const [component, ms] of componentsOf(path)) {
  console.log(
    component === STARTUP
      ? `${ms.toFixed(0).padStart(7)}  ms ${component}, not counted per review`
      : `${((ms * 1000) / Math.max(1, requests)).toFixed(1).padStart(7)}  ${component}`,
  );
}
console.log('\nnetguard entry points (inclusive):');
for (const line of inclusiveOf(
  path,
  /^(decodeReview|evaluate|mutate|encodeReview|auditLine|record|runRules|denialMessage|warningLines|namespaceOf|resolveEnvironment|toAdmissionInput|safeParse|serialize|.*anonymous.*src\/server\/app) /,
).slice(0, 15)) {
  console.log(`${pct(line.totalPct)}  ${line.label}`);
}
