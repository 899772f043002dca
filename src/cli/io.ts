import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Where a CLI run meets the world: environment (PATH, KUBECONFIG, HOME, NO_COLOR), standard streams,
 * whether they are terminals, and its exit code. `runCli` runs with the process's own; tests pass
 * theirs and run any command in-process, so a PATH without kubectl, a KUBECONFIG or a terminal
 * prompt needs no child process.
 */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: AsyncIterable<string | Buffer>;
  readonly stdinIsTTY: boolean;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Where the run's exit code goes (the process's exitCode, or a test's variable). */
  readonly exit: (code: number) => void;
}

export function processIo(): CliIo {
  return {
    env: process.env,
    stdin: process.stdin,
    stdinIsTTY: process.stdin.isTTY === true,
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    exit: (code) => void (process.exitCode = code),
  };
}

const current = new AsyncLocalStorage<CliIo>();

/** The io of the run in progress (the process's outside any run). */
export const cliIo = (): CliIo => current.getStore() ?? processIo();

/** Runs `body` with `io` as every command's io, including what it awaits. */
export const withCliIo = <T>(io: CliIo, body: () => Promise<T>): Promise<T> =>
  current.run(io, body);

/** All of standard input as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of cliIo().stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
