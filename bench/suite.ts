import type { Pool } from 'undici';
import {
  closedLoop,
  connectionPool,
  fixedRate,
  type LoadResult,
  type NextExchange,
} from './load.ts';
import type { Expectations } from './expectations.ts';
import type { Plan } from './plan.ts';
import { bodyWithUid } from './review-bodies.ts';
import type { FixedRateRow, ScenarioRow } from './results.ts';
import type { Scenario } from './scenarios.ts';
import type { ServerName, ServerProcess } from './server-process.ts';
import { machineBusyMicros } from './proc-usage.ts';
import { sampleOf, summarise, type RunSample } from './summary.ts';
import type { Expectation } from './verify-reply.ts';

export interface Bench {
  readonly plan: Plan;
  readonly ca: string;
  readonly servers: Readonly<Record<ServerName, ServerProcess>>;
  readonly expectations: Expectations;
  readonly log: (line: string) => void;
  /** Date.now() past which disturbed runs are no longer repeated, so a full run stays under 10 minutes. */
  readonly retryUntil: number;
}

const BARE_EXPECTATION: Expectation = { allowed: true, patch: false };
const SIDES: readonly ServerName[] = ['bare', 'netguard'];

/** Request after request of a scenario's cycle, each with a fresh uid and the reply it must get. */
export function exchangesFor(bench: Bench, scenario: Scenario, server: ServerName): NextExchange {
  let index = 0;
  const { cases, cycle } = scenario;
  return () => {
    const item = cases[cycle[index++ % cycle.length] ?? 0];
    if (item === undefined) throw new Error(`scenario ${scenario.id} has no cases`);
    const { uid, body } = bodyWithUid(item.template);
    const expect =
      server === 'bare'
        ? BARE_EXPECTATION
        : (bench.expectations.get(item.id)?.expect ?? BARE_EXPECTATION);
    return { path: item.path, body, uid, expect };
  };
}

function meanBodyBytes(scenario: Scenario): number {
  const sizes = scenario.cycle.map((index) => scenario.cases[index]?.template.bytes ?? 0);
  return sizes.reduce((sum, size) => sum + size, 0) / Math.max(1, sizes.length);
}

function pools(bench: Bench, connections: number): Record<ServerName, Pool> {
  const pool = (name: ServerName): Pool =>
    connectionPool(`https://127.0.0.1:${bench.servers[name].port}`, bench.ca, connections);
  return { bare: pool('bare'), netguard: pool('netguard') };
}

/** Above this much CPU from other processes (% of one core), a run is disturbed and measured again. */
const FOREIGN_CPU_LIMIT_PCT = 20;
const RETRIES = 2;

function benchCpuMicros(servers: readonly ServerProcess[]): number {
  const own = process.cpuUsage();
  return own.user + own.system + servers.reduce((sum, server) => sum + server.usage().cpuMicros, 0);
}

async function measuredOnce(
  bench: Bench,
  server: ServerProcess,
  run: () => Promise<LoadResult>,
): Promise<RunSample> {
  const all = Object.values(bench.servers);
  const machine = machineBusyMicros();
  const ours = benchCpuMicros(all);
  const before = server.usage();
  const load = await run();
  const after = server.usage();
  const foreign = machineBusyMicros() - machine - (benchCpuMicros(all) - ours);
  return sampleOf(load, before, after, Math.max(0, foreign / 1e4 / load.seconds));
}

/** One measured run; when other jobs on the machine took CPU meanwhile, it is repeated (bounded). */
async function measured(
  bench: Bench,
  server: ServerProcess,
  run: () => Promise<LoadResult>,
): Promise<RunSample> {
  let sample = await measuredOnce(bench, server, run);
  for (
    let retry = 0;
    retry < RETRIES &&
    sample.foreignCpuPct > FOREIGN_CPU_LIMIT_PCT &&
    Date.now() < bench.retryUntil;
    retry++
  ) {
    bench.log(
      `  (other processes used ${Math.round(sample.foreignCpuPct)}% of a core during that run: measuring it again)`,
    );
    sample = await measuredOnce(bench, server, run);
  }
  return sample;
}

const describe = (name: string, s: RunSample): string =>
  `${name.padEnd(8)} ${Math.round(s.load.rps).toString().padStart(6)} req/s  p50 ${s.load.p50Ms.toFixed(2)}  p99 ${s.load.p99Ms.toFixed(2)} ms  ${Math.round(s.cpuMicrosPerRequest)} µs/req  client ${Math.round(s.load.clientCpuPct)}%  other ${Math.round(s.foreignCpuPct)}%${s.load.errors + s.load.wrong > 0 ? `  errors ${s.load.errors} wrong ${s.load.wrong}` : ''}`;

/** Before anything is measured: the mix on every server, so JIT and heap sizing settle first. */
export async function warmUp(bench: Bench, mix: Scenario): Promise<void> {
  const pool = pools(bench, 32);
  try {
    for (const name of SIDES) {
      const load = await closedLoop(pool[name], exchangesFor(bench, mix, name), {
        connections: 32,
        durationMs: bench.plan.initialWarmupMs,
        maxRequests: bench.plan.maxRequests,
      });
      bench.log(
        `  warm-up ${name}: ${load.requests} requests, ${load.errors} errors, ${load.wrong} wrong`,
      );
    }
  } finally {
    await Promise.all([pool.bare.close(), pool.netguard.close()]);
  }
}

/** Warm-up, then `plan.runs` closed-loop runs per server, alternating which goes first. */
export async function measureScenario(
  bench: Bench,
  scenario: Scenario,
  connections: number,
): Promise<ScenarioRow> {
  const { plan } = bench;
  const pool = pools(bench, connections);
  const samples: Record<ServerName, RunSample[]> = { bare: [], netguard: [] };
  const loop = (name: ServerName, durationMs: number) => () =>
    closedLoop(pool[name], exchangesFor(bench, scenario, name), {
      connections,
      durationMs,
      maxRequests: plan.maxRequests,
    });
  try {
    for (const name of SIDES) await loop(name, plan.warmupMs)();
    for (let run = 0; run < plan.runs; run++) {
      const order = run % 2 === 0 ? SIDES : [...SIDES].reverse();
      for (const name of order) {
        const sample = await measured(bench, bench.servers[name], loop(name, plan.runMs));
        samples[name].push(sample);
        bench.log(`  ${scenario.id} @${connections} run ${run + 1}: ${describe(name, sample)}`);
      }
    }
  } finally {
    await Promise.all([pool.bare.close(), pool.netguard.close()]);
  }
  const netguard = summarise(samples.netguard);
  const bare = summarise(samples.bare);
  const notes = [
    ...new Set(scenario.cases.flatMap((item) => bench.expectations.get(item.id)?.note ?? [])),
  ];
  return {
    id: scenario.id,
    title: scenario.title,
    connections,
    bodyBytes: meanBodyBytes(scenario),
    netguard,
    bare,
    ratio: bare.rps > 0 ? netguard.rps / bare.rps : 0,
    p99DeltaMs: netguard.p99Ms - bare.p99Ms,
    notes,
  };
}

/** Open loop at `rate` against one server, measured like a closed-loop run. */
export async function measureFixedRate(
  bench: Bench,
  scenario: Scenario,
  name: ServerName,
  rate: number,
  durationMs: number,
): Promise<RunSample> {
  const pool = connectionPool(`https://127.0.0.1:${bench.servers[name].port}`, bench.ca, 32);
  try {
    const maxRequests = bench.plan.maxRequests * 10;
    // A short warm-up fills the pool's connections, so TLS handshakes stay out of the measured latencies.
    await fixedRate(pool, exchangesFor(bench, scenario, name), {
      rate,
      durationMs: 500,
      maxRequests,
    });
    return await measured(bench, bench.servers[name], () =>
      fixedRate(pool, exchangesFor(bench, scenario, name), { rate, durationMs, maxRequests }),
    );
  } finally {
    await pool.close();
  }
}

export async function fixedRateRow(
  bench: Bench,
  scenario: Scenario,
  rate: number,
): Promise<FixedRateRow> {
  const bare = await measureFixedRate(bench, scenario, 'bare', rate, bench.plan.fixedRateMs);
  bench.log(`  fixed ${Math.round(rate)} req/s: ${describe('bare', bare)}`);
  const netguard = await measureFixedRate(
    bench,
    scenario,
    'netguard',
    rate,
    bench.plan.fixedRateMs,
  );
  bench.log(`  fixed ${Math.round(rate)} req/s: ${describe('netguard', netguard)}`);
  return { rate, netguard: summarise([netguard]), bare: summarise([bare]) };
}
