import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { verifyReply, type Expectation, type Problem } from './verify-reply.ts';

/** One request to send: body with its uid, and what the reply must say. */
export interface Exchange {
  readonly path: string;
  readonly body: string;
  readonly uid: string;
  readonly expect: Expectation;
}

export type NextExchange = () => Exchange;

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly wrong: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** The load generator's own CPU, in % of one core: near 100 means it, not the server, was the limit. */
  readonly clientCpuPct: number;
  /** Fixed rate only: how late the scheduler sent requests (p99), the client's own jitter. */
  readonly sendLagP99Ms?: number;
  readonly problems: readonly string[];
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_PROBLEMS = 5;
/** Open loop: past this many requests in flight the server has fallen behind; further ones count as errors, unsent. */
const MAX_BACKLOG = 4_096;

/** HTTP/1.1 keep-alive connections to one origin, no pipelining, trusting only the bench CA. */
export function connectionPool(origin: string, ca: string, connections: number): Pool {
  return new Pool(origin, {
    connections,
    pipelining: 1,
    connect: { ca, servername: 'localhost' },
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: 60_000,
  });
}

class Tally {
  readonly latency: RecordableHistogram = createHistogram();
  requests = 0;
  errors = 0;
  wrong = 0;
  readonly problems = new Set<string>();

  add(nanos: bigint, problem: Problem | undefined): void {
    this.requests++;
    this.latency.record(nanos > 0n ? nanos : 1n);
    if (problem === undefined) return;
    if (problem.kind === 'error') this.errors++;
    else this.wrong++;
    if (this.problems.size < MAX_PROBLEMS) this.problems.add(`${problem.kind}: ${problem.detail}`);
  }

  result(seconds: number, clientCpuMicros: number, sendLagP99Ms?: number): LoadResult {
    const ms = (nanos: number): number => nanos / 1e6;
    const empty = this.requests === 0;
    return {
      requests: this.requests,
      errors: this.errors,
      wrong: this.wrong,
      seconds,
      rps: this.requests / seconds,
      p50Ms: empty ? 0 : ms(this.latency.percentile(50)),
      p99Ms: empty ? 0 : ms(this.latency.percentile(99)),
      maxMs: empty ? 0 : ms(this.latency.max),
      clientCpuPct: clientCpuMicros / 1e4 / seconds,
      ...(sendLagP99Ms === undefined ? {} : { sendLagP99Ms }),
      problems: [...this.problems],
    };
  }
}

/** One request, timed from handing it to the pool until the whole reply is read and checked. */
async function exchangeOnce(pool: Pool, exchange: Exchange, tally: Tally): Promise<void> {
  const started = process.hrtime.bigint();
  let problem: Problem | undefined;
  try {
    const { statusCode, body } = await pool.request({
      path: exchange.path,
      method: 'POST',
      headers: JSON_HEADERS,
      body: exchange.body,
    });
    problem = verifyReply(statusCode, await body.text(), exchange.uid, exchange.expect);
  } catch (err) {
    problem = {
      kind: 'error',
      detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    };
  }
  tally.add(process.hrtime.bigint() - started, problem);
}

function cpuMicrosSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

/** Closed loop: `connections` senders, each with one request in flight, until the time or count runs out. */
export async function closedLoop(
  pool: Pool,
  next: NextExchange,
  options: { connections: number; durationMs: number; maxRequests: number },
): Promise<LoadResult> {
  const tally = new Tally();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const deadline = started + options.durationMs;
  let issued = 0;
  const sender = async (): Promise<void> => {
    while (issued < options.maxRequests && performance.now() < deadline) {
      issued++;
      await exchangeOnce(pool, next(), tally);
    }
  };
  await Promise.all(Array.from({ length: options.connections }, sender));
  return tally.result((performance.now() - started) / 1000, cpuMicrosSince(cpu));
}

/**
 * Open loop at a fixed rate: requests leave on schedule whether or not earlier ones came back
 * (a slow server cannot slow the arrivals down). Latency runs from the moment a request is sent.
 */
export async function fixedRate(
  pool: Pool,
  next: NextExchange,
  options: { rate: number; durationMs: number; maxRequests: number },
): Promise<LoadResult> {
  const tally = new Tally();
  const lag = createHistogram();
  const total = Math.min(
    options.maxRequests,
    Math.round((options.rate * options.durationMs) / 1000),
  );
  const intervalMs = 1000 / options.rate;
  const hardStop = options.durationMs * 2 + 10_000;
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  const cpu = process.cpuUsage();
  let sent = 0;
  while (sent < total && performance.now() - started < hardStop) {
    const elapsed = performance.now() - started;
    const due = Math.min(total, Math.floor(elapsed / intervalMs) + 1);
    for (; sent < due; sent++) {
      lag.record(Math.max(1, Math.round((elapsed - sent * intervalMs) * 1e6)));
      if (pending.size >= MAX_BACKLOG) {
        tally.add(1n, {
          kind: 'error',
          detail: `server fell behind: ${MAX_BACKLOG} requests in flight, request not sent`,
        });
        continue;
      }
      const request = exchangeOnce(pool, next(), tally);
      pending.add(request);
      void request.finally(() => pending.delete(request));
    }
    await sleep(1);
  }
  await Promise.all(pending);
  return tally.result(
    (performance.now() - started) / 1000,
    cpuMicrosSince(cpu),
    lag.percentile(99) / 1e6,
  );
}
