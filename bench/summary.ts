import type { LoadResult } from './load.ts';
import type { Usage } from './proc-usage.ts';

/** One measured run of one server: the client's view plus the server's CPU and memory over it. */
export interface RunSample {
  readonly load: LoadResult;
  readonly cpuMicrosPerRequest: number;
  readonly rssMB: number;
  readonly maxRssMB: number;
  /** CPU used on this machine by anything but the benchmark and its two servers, in % of one core. */
  readonly foreignCpuPct: number;
}

/** The median of the runs (max over runs for `maxMs`, RSS and the error counts summed). */
export interface SideSummary {
  readonly runs: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cpuMicrosPerRequest: number;
  readonly rssMB: number;
  readonly maxRssMB: number;
  readonly clientCpuPct: number;
  /** The highest foreign CPU seen during a measured run (other jobs on the machine), in % of one core. */
  readonly foreignCpuPct: number;
  readonly errors: number;
  readonly wrong: number;
  readonly problems: readonly string[];
  readonly sendLagP99Ms?: number;
}

const MB = 1024 * 1024;

export function sampleOf(
  load: LoadResult,
  before: Usage,
  after: Usage,
  foreignCpuPct = 0,
): RunSample {
  return {
    foreignCpuPct,
    load,
    cpuMicrosPerRequest:
      load.requests === 0 ? 0 : (after.cpuMicros - before.cpuMicros) / load.requests,
    rssMB: after.rss / MB,
    maxRssMB: after.maxRss / MB,
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function summarise(samples: readonly RunSample[]): SideSummary {
  const of = (pick: (sample: RunSample) => number): number => median(samples.map(pick));
  const lags = samples.flatMap((sample) =>
    sample.load.sendLagP99Ms === undefined ? [] : [sample.load.sendLagP99Ms],
  );
  return {
    runs: samples.length,
    requests: samples.reduce((sum, sample) => sum + sample.load.requests, 0),
    rps: of((s) => s.load.rps),
    p50Ms: of((s) => s.load.p50Ms),
    p99Ms: of((s) => s.load.p99Ms),
    maxMs: Math.max(0, ...samples.map((s) => s.load.maxMs)),
    cpuMicrosPerRequest: of((s) => s.cpuMicrosPerRequest),
    rssMB: samples.at(-1)?.rssMB ?? 0,
    maxRssMB: Math.max(0, ...samples.map((s) => s.maxRssMB)),
    clientCpuPct: of((s) => s.load.clientCpuPct),
    foreignCpuPct: Math.max(0, ...samples.map((s) => s.foreignCpuPct)),
    errors: samples.reduce((sum, s) => sum + s.load.errors, 0),
    wrong: samples.reduce((sum, s) => sum + s.load.wrong, 0),
    problems: [...new Set(samples.flatMap((s) => s.load.problems))].slice(0, 5),
    ...(lags.length === 0 ? {} : { sendLagP99Ms: median(lags) }),
  };
}
