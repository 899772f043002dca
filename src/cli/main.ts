#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.ts';
import { UsageError } from './options.ts';
type Register = (program: Command) => void;

// Loaded on demand: the cluster client alone costs ~0.4 s at start-up, which `check` in a pre-commit hook should not pay.
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  serve: async () => (await import('./serve.ts')).registerServe,
  check: async () => (await import('./check.ts')).registerCheck,
  exception: async () => (await import('./exception.ts')).registerException,
  controller: async () => (await import('./controller.ts')).registerController,
  audit: async () => (await import('./audit.ts')).registerAudit,
  certs: async () => (await import('./certs.ts')).registerCerts,
  reach: async () => (await import('./reach.ts')).registerReach,
  advise: async () => (await import('./advise.ts')).registerAdvise,
};

/** Exit codes: 0 fine (check: all admitted), 1 failure (check: something denied), 2 usage or input error. */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('netguard')
    .description('Kubernetes admission webhook for network-policy guardrails')
    .exitOverride()
    .showHelpAfterError();
  const requested = argv[2];
  const names = requested !== undefined && Object.hasOwn(COMMANDS, requested) ? [requested] : Object.keys(COMMANDS);
  for (const name of names) {
    const load = COMMANDS[name];
    if (load !== undefined) (await load())(program);
  }
  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  try {
    await (await buildProgram(argv)).parseAsync([...argv]);
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
