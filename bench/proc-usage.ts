import { readFileSync } from 'node:fs';

/** A server's CPU and memory, read from outside (Linux /proc), so the server runs unmodified. */
export interface Usage {
  readonly cpuMicros: number;
  readonly rss: number;
  /** Peak RSS since start (VmHWM). */
  readonly maxRss: number;
}

const TICK_MICROS = 10_000; // USER_HZ is 100 on Linux.

function statusKB(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return Number(match?.[1] ?? 0) * 1024;
}

export function usageOf(pid: number): Usage {
  // Fields after the parenthesised command name: state is the 3rd field; utime and stime the 14th and 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    cpuMicros: ticks * TICK_MICROS,
    rss: statusKB(status, 'VmRSS'),
    maxRss: statusKB(status, 'VmHWM'),
  };
}

/** CPU time the whole machine spent busy (all cores), in microseconds. */
export function machineBusyMicros(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (ticks.reduce((sum, tick) => sum + tick, 0) - idle) * TICK_MICROS;
}
