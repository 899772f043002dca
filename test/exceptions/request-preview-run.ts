import { runExceptionRequest, requestOptionsSchema } from '../../src/cli/exception.ts';
import { parseOptions } from '../../src/cli/options.ts';

/** `netguard exception request ARGS` without --apply, in-process, with captured streams. */
export async function runRequest(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const raw: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i += 2) {
    const flag = String(args[i]);
    const key = flag === '-n' ? 'namespace' : flag.replace(/^--/, '');
    raw[key] = args[i + 1];
  }
  let stdout = '';
  let stderr = '';
  const code = await runExceptionRequest(parseOptions(requestOptionsSchema, raw), {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    now: new Date(),
  });
  return { code, stdout, stderr };
}
