import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/run.ts';
import type { CliRun } from '../check/run-cli.ts';

export interface InProcessOptions {
  /** Standard input's text (empty by default). */
  readonly stdin?: string;
  /** The environment the run sees (default: this process's, without KUBECONFIG or in-cluster variables). */
  readonly env?: NodeJS.ProcessEnv;
  /** Whether stdin, stdout and stderr are terminals (default: none is). */
  readonly tty?: boolean;
}

/** The environment of a user with no cluster configured. */
export function noClusterEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  delete env['KUBECONFIG'];
  delete env['KUBERNETES_SERVICE_HOST'];
  return env;
}

/**
 * `netguard ARGS` in this process: the same runCli as the binary (commander, every command, the
 * error-to-exit-code mapping), with captured streams, so a test pays no child process for it.
 */
export async function cliInProcess(
  args: readonly string[],
  options: InProcessOptions = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  let code = 0;
  const tty = options.tty === true;
  await runCli(['node', 'netguard', ...args], {
    env: options.env ?? noClusterEnv(),
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    stdinIsTTY: tty,
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdoutIsTTY: tty,
    stderrIsTTY: tty,
    exit: (exitCode) => void (code = exitCode),
  });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}
