import { CliError, ConfigError, KubeApiError, UsageError } from '../errors.ts';
import { Command, CommanderError } from 'commander';
import { VERSION } from '../package-info.ts';
import { cliIo } from './io.ts';
type Register = (program: Command) => void;

// Loaded on demand: the cluster client alone costs ~0.4 s at start-up, which `check` in a pre-commit hook should not pay.
export const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  serve: async () => (await import('./serve.ts')).registerServe,
  check: async () => (await import('./check.ts')).registerCheck,
  exception: async () => (await import('./exception.ts')).registerException,
  controller: async () => (await import('./controller.ts')).registerController,
  audit: async () => (await import('./audit.ts')).registerAudit,
  certs: async () => (await import('./certs.ts')).registerCerts,
  reach: async () => (await import('./reach.ts')).registerReach,
  advise: async () => (await import('./advise.ts')).registerAdvise,
  completion: async () => (await import('./completion.ts')).registerCompletion,
};

/** `Usage: netguard check [options]` and where the rest is: one command's usage, never the whole help. */
export function usageOf(command: Command): string {
  const path: string[] = [];
  for (let at: Command | null = command; at !== null; at = at.parent) path.unshift(at.name());
  const name = path.join(' ');
  return `Usage: ${name} ${command.usage()}\nRun "${name} --help" for details.`;
}

/** After a parse error, each command prints its own usage (commander would print the whole help). */
export function shortUsageOnError(command: Command): void {
  command.showHelpAfterError(usageOf(command));
  for (const sub of command.commands) shortUsageOnError(sub);
}

/** Exit codes: 0 fine (check: all admitted), 1 failure (check: something denied), 2 usage or input error. */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('netguard')
    .description('Kubernetes admission webhook for network-policy guardrails')
    .version(VERSION, '-V, --version', 'print the version')
    .exitOverride()
    // Help and commander's own errors go where the run's io says; subcommands inherit this.
    .configureOutput({
      writeOut: (text) => cliIo().stdout(text),
      writeErr: (text) => cliIo().stderr(text),
    });
  const requested = argv[2];
  // `completion` describes every command, so it loads them all, as help does; `--version` none.
  const one =
    requested !== undefined && requested !== 'completion' && Object.hasOwn(COMMANDS, requested);
  const none = requested === '--version' || requested === '-V';
  const names = none ? [] : one ? [requested] : Object.keys(COMMANDS);
  for (const name of names) {
    const load = COMMANDS[name];
    if (load !== undefined) (await load())(program);
  }
  shortUsageOnError(program);
  return program;
}

/** The command a failed run was about (deepest match of argv), for its usage line. */
function commandOf(program: Command, argv: readonly string[]): Command {
  let at = program;
  for (const word of argv.slice(2)) {
    const sub = at.commands.find(
      (command) => command.name() === word || command.aliases().includes(word),
    );
    if (sub === undefined) break;
    at = sub;
  }
  return at;
}

/** Errors of the world outside (network, files, TLS, client-node's API errors): their message is enough. */
function systemError(err: unknown): string | undefined {
  if (!(err instanceof Error) || !('code' in err)) return undefined;
  const { code } = err;
  const first = err.message.split('\n')[0] ?? '';
  if (
    typeof code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ERR_TLS_|UNABLE_TO_|CERT_|DEPTH_|SELF_SIGNED)/.test(
      code,
    )
  ) {
    return `cannot reach the cluster: ${first}`;
  }
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return first;
  // client-node ApiException: an HTTP status and the API server's Status body.
  if (typeof code === 'number' && code >= 400)
    return `the API server refused (HTTP ${code}): ${first}`;
  return undefined;
}

/**
 * What a failure means for the user: one line (no stack) and an exit code. Stack traces are for
 * bugs only; every error a user can cause (usage, input, config, cluster, port) has a type here.
 */
export function failureOf(
  err: unknown,
  program: Command | undefined,
  argv: readonly string[],
): { code: number; text: string } {
  if (err instanceof CommanderError) return { code: err.exitCode === 0 ? 0 : 2, text: '' };
  if (err instanceof UsageError) {
    const usage = program === undefined ? '' : `${usageOf(commandOf(program, argv))}\n`;
    return { code: 2, text: `netguard: ${err.message}\n${usage}` };
  }
  if (err instanceof ConfigError) return { code: 2, text: `netguard: ${err.message}\n` };
  if (err instanceof CliError) return { code: err.exitCode, text: `netguard: ${err.message}\n` };
  if (err instanceof KubeApiError)
    return { code: 1, text: `netguard: the API server refused: ${err.message}\n` };
  const system = systemError(err);
  if (system !== undefined) return { code: 1, text: `netguard: ${system}\n` };
  return {
    code: 1,
    text: `netguard: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  };
}
