#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.ts';
import { UsageError } from './options.ts';
import { registerAudit } from './audit.ts';
import { registerCheck } from './check.ts';
import { registerException } from './exception.ts';
import { registerController } from './controller.ts';
import { registerServe } from './serve.ts';

/** Exit codes: 0 fine (check: all admitted), 1 failure (check: something denied), 2 usage or input error. */
export function buildProgram(): Command {
  const program = new Command('netguard')
    .description('Kubernetes admission webhook for network-policy guardrails')
    .exitOverride()
    .showHelpAfterError();
  registerServe(program);
  registerCheck(program);
  registerException(program);
  registerController(program);
  registerAudit(program);
  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`netguard: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`netguard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
