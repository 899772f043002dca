import { Command } from 'commander';
import { registerCheck } from '../../src/cli/check.ts';
import { failureOf, shortUsageOnError } from '../../src/cli/program.ts';
import type { CliRun } from './run-cli.ts';

/**
 * `netguard check <args>` in-process: the same commander definition, option parsing, runCheck and
 * error-to-exit-code mapping as the binary, with captured streams and no child process.
 */
export async function runCheckInProcess(
  args: readonly string[],
  options: { stdin?: string; kubectl?: string; now?: Date } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  let code: number | null = 0;
  const program = new Command('netguard').exitOverride().configureOutput({
    writeOut: (text) => void (stdout += text),
    writeErr: (text) => void (stderr += text),
  });
  registerCheck(program, {
    io: async () => ({
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      stdin: () => options.stdin ?? '',
      color: false,
      now: options.now ?? new Date(),
      ...(options.kubectl === undefined ? {} : { kubectl: options.kubectl }),
    }),
    exit: (exitCode) => {
      code = exitCode;
    },
  });
  shortUsageOnError(program);
  const argv = ['node', 'netguard', 'check', ...args];
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const failure = failureOf(err, program, argv);
    stderr += failure.text;
    code = failure.code;
  }
  const out = stdout;
  return { code, stdout: out, stderr, json: () => JSON.parse(out) };
}
