// What namespace-scale and dialect-scale share: one review timed in an empty namespace and in a
// crowded one, with the same context, and the ratio of their medians held to a target.
import { performance } from 'node:perf_hooks';
import { validate } from '../src/engine/evaluate.ts';
import type { AdmissionInput, EvaluationContext } from '../src/engine/types.ts';

const ROUNDS = 3_000;

function measure(input: AdmissionInput, ctx: EvaluationContext): { p50: number; p99: number } {
  for (let i = 0; i < 200; i += 1) validate(input, ctx); // warm up, and let indexes build
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const started = performance.now();
    validate(input, ctx);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number): number =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Times both reviews, prints them as `labels` name them, and sets exit code 1 past `target`. */
export function compareCrowded(options: {
  readonly name: string;
  readonly ctx: EvaluationContext;
  readonly empty: AdmissionInput;
  readonly crowded: AdmissionInput;
  readonly labels: { readonly empty: string; readonly crowded: string };
  readonly target: number;
}): void {
  const inEmpty = measure(options.empty, options.ctx);
  const inCrowded = measure(options.crowded, options.ctx);
  const ratio = inCrowded.p50 / inEmpty.p50;
  const ms = (value: number): string => `${value.toFixed(3)} ms`;
  const width = Math.max(options.labels.empty.length, options.labels.crowded.length) + 2;
  const line = (label: string, at: { p50: number; p99: number }) =>
    console.log(`${`${label}:`.padEnd(width)} p50 ${ms(at.p50)}  p99 ${ms(at.p99)}`);
  line(options.labels.empty, inEmpty);
  line(options.labels.crowded, inCrowded);
  console.log(`crowded / empty p50: ${ratio.toFixed(2)}x (target: within ${options.target}x)`);
  if (ratio > options.target) {
    console.error(`${options.name}: past the target`);
    process.exitCode = 1;
  }
}
