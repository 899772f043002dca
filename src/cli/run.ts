import type { Command } from 'commander';
import { buildProgram, failureOf } from './program.ts';

/** The whole CLI for one argv: parse, run, map any failure to one line and an exit code. */
export async function runCli(argv: readonly string[]): Promise<void> {
  let program: Command | undefined;
  try {
    program = await buildProgram(argv);
    await program.parseAsync([...argv]);
  } catch (err) {
    const failure = failureOf(err, program, argv);
    if (failure.text !== '') process.stderr.write(failure.text);
    process.exitCode = failure.code;
  }
}
