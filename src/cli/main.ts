#!/usr/bin/env node
import type { Command } from 'commander';
import { buildProgram, failureOf } from './program.ts';

async function main(argv: readonly string[]): Promise<void> {
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

await main(process.argv);
