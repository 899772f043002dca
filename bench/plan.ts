/** How long each phase runs. A full run without --soak stays well under 10 minutes on 2 cores. */
export interface Plan {
  readonly name: 'full' | 'quick';
  /** Before the first measured run of a scenario on a server (JIT, TLS sessions). */
  readonly warmupMs: number;
  /** Once per server before anything is measured, with the mix: every code path gets optimised. */
  readonly initialWarmupMs: number;
  readonly runMs: number;
  /** Measured runs per scenario and server; the table shows the median. */
  readonly runs: number;
  /** Closed-loop connection counts: every scenario at the first, the mix at all of them. */
  readonly connections: readonly number[];
  readonly fixedRateMs: number;
  /** Upper bound on requests in any one run, whatever the speed. */
  readonly maxRequests: number;
}

export const FULL: Plan = {
  name: 'full',
  warmupMs: 2_000,
  initialWarmupMs: 5_000,
  runMs: 5_000,
  runs: 3,
  connections: [32, 8, 100],
  fixedRateMs: 10_000,
  maxRequests: 2_000_000,
};

export const QUICK: Plan = {
  name: 'quick',
  warmupMs: 500,
  initialWarmupMs: 1_500,
  runMs: 1_000,
  runs: 3,
  connections: [32, 8, 100],
  fixedRateMs: 3_000,
  maxRequests: 500_000,
};

export const SOAK_SECONDS = 300;
export const SOAK_SAMPLE_MS = 5_000;
