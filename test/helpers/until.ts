/** Polls `check` every 10 ms until it holds; fails naming `what` after `attempts` tries (5 s). */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  attempts = 500,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    const held = check();
    // A synchronous check is read at once: awaiting it would let queued events run first.
    if (typeof held === 'boolean' ? held : await held) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
