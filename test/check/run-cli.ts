import { spawnSync } from 'node:child_process';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  json(): any;
}

/** Runs `netguard <args>` as users do, in a child Node (24 strips the types), from the repository root. */
export function runCli(
  args: readonly string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): CliRun {
  const child = spawnSync(process.execPath, ['src/cli/main.ts', ...args], {
    input: options.stdin ?? '',
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '', ...options.env },
    timeout: 240_000, // catches a hang; a busy machine may take long to start a child
  });
  return {
    code: child.status,
    stdout: child.stdout,
    stderr: child.stderr,
    json: () => JSON.parse(child.stdout),
  };
}

export const FIXTURES = 'test/fixtures/check';
