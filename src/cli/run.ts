import type { Command } from 'commander';
import { type CliIo, processIo, withCliIo } from './io.ts';
import { buildProgram, failureOf } from './program.ts';

/**
 * The whole CLI for one argv: parse, run, map any failure to one line and an exit code. Runs with
 * the process's streams and environment unless given others (tests run it in-process that way).
 */
export function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<void> {
  return withCliIo(io, async () => {
    let program: Command | undefined;
    try {
      program = await buildProgram(argv);
      await program.parseAsync([...argv]);
    } catch (err) {
      const failure = failureOf(err, program, argv);
      if (failure.text !== '') io.stderr(failure.text);
      io.exit(failure.code);
    }
  });
}
