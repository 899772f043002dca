import { connectionPool, fixedRate } from './load.ts';
import { SOAK_SAMPLE_MS } from './plan.ts';
import type { SoakResult } from './results.ts';
import type { Scenario } from './scenarios.ts';
import { exchangesFor, type Bench } from './suite.ts';
import { median, sampleOf, summarise } from './summary.ts';

const MB = 1024 * 1024;

/** Warm = the minute after the first one (or the first third of a short soak); end = the last minute (or third). */
function drift(
  samples: readonly { second: number; rssMB: number }[],
  seconds: number,
): { warm: number; end: number } {
  const window = seconds >= 180 ? 60 : seconds / 3;
  const warmFrom = seconds >= 180 ? 60 : 0;
  const warm = median(
    samples.filter((s) => s.second >= warmFrom && s.second < warmFrom + window).map((s) => s.rssMB),
  );
  const end = median(samples.filter((s) => s.second >= seconds - window).map((s) => s.rssMB));
  return { warm, end };
}

/** netguard alone, the mix at a fixed rate for `seconds`, RSS sampled every few seconds. */
export async function soak(
  bench: Bench,
  scenario: Scenario,
  rate: number,
  seconds: number,
): Promise<SoakResult> {
  const server = bench.servers.netguard;
  const pool = connectionPool(`https://127.0.0.1:${server.port}`, bench.ca, 32);
  const samples: { second: number; rssMB: number }[] = [];
  const started = Date.now();
  const sampler = setInterval(() => {
    const usage = server.usage();
    const second = Math.round((Date.now() - started) / 1000);
    samples.push({ second, rssMB: usage.rss / MB });
    if (second % 30 < SOAK_SAMPLE_MS / 1000)
      bench.log(`  soak ${second}s: RSS ${(usage.rss / MB).toFixed(1)} MB`);
  }, SOAK_SAMPLE_MS);
  try {
    const before = server.usage();
    const load = await fixedRate(pool, exchangesFor(bench, scenario, 'netguard'), {
      rate,
      durationMs: seconds * 1000,
      maxRequests: Math.ceil(rate * seconds) + 1,
    });
    const sample = sampleOf(load, before, server.usage());
    const { warm, end } = drift(samples, seconds);
    return {
      at: new Date().toISOString(),
      rate,
      seconds,
      samples,
      rssWarmMB: warm,
      rssEndMB: end,
      driftPct: warm > 0 ? ((end - warm) / warm) * 100 : 0,
      netguard: summarise([sample]),
    };
  } finally {
    clearInterval(sampler);
    await pool.close();
  }
}
