/**
 * Polls `check` every 10 ms until it holds; fails naming `what` after `withinMs` (30 s). The bound is
 * generous on purpose: a passing run returns as soon as the condition holds, so only a broken one
 * waits it out, and a machine busy with other work (CI, a second suite) must not turn slow into red.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  withinMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const held = check();
    // A synchronous check is read at once: awaiting it would let queued events run first.
    if (typeof held === 'boolean' ? held : await held) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
