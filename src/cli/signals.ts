/** What a long-running command (`serve`, `controller`) does on a signal. */
export interface SignalTarget {
  /** SIGHUP: re-read what it reads. */
  reload(): void;
  /** SIGTERM, SIGINT: finish what is in flight and let go of everything. */
  stop(): Promise<void>;
}

/**
 * The one place signals are handled, in the CLI and never in library code. SIGHUP reloads instead
 * of its default (exit at once, resetting every review in flight); SIGTERM or SIGINT stops, then
 * exits 0, or 1 if stopping failed.
 */
export function handleSignals(target: SignalTarget): void {
  process.on('SIGHUP', () => target.reload());
  const stop = (): void => {
    target.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
