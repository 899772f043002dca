import { Option } from 'commander';
import { z } from 'zod';
import { formatIssues } from '../zod-errors.ts';
import { bundledPolicyPath, IS_STANDALONE, VERSION } from '../package-info.ts';

/** A problem with the command line: printed as is, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A failure the user can act on without a stack trace: a kubeconfig that does not load, an API
 * server that refuses, a port already taken. Printed as one line; exit code 1 unless said.
 */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}

export const port = z.coerce.number().int().min(0).max(65535);

const flagName = (field: string): string =>
  `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Validates commander's raw option values; problems name the flag. */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const [first] = issue.path;
    return typeof first === 'string'
      ? `${flagName(first)}: ${issue.message}`
      : (formatIssues(parsed.error)[0] ?? issue.message);
  });
  throw new UsageError(lines.join('\n'));
}

/** The flags of every command that talks to a cluster, resolved as kubectl resolves them (src/kube/client.ts). */
export function kubeconfigOption(
  description = 'kubeconfig file (default: in-cluster config, then ~/.kube/config)',
): Option {
  return new Option('--kubeconfig <path>', description);
}

export function contextOption(): Option {
  return new Option('--context <name>', 'kubeconfig context');
}

/**
 * `--config`: the GuardrailPolicy file, declared once for every command that judges. The default is
 * the policy shipped inside the package, found from the package, not the working directory.
 */
export function configOption(description = 'GuardrailPolicy file'): Option {
  return new Option('--config <path>', description).default(
    bundledPolicyPath(),
    'the policy bundled with netguard',
  );
}

/** How output names the policy it judged with. */
export function describePolicy(path: string): string {
  if (path !== bundledPolicyPath()) return path;
  // The standalone executable's copy sits in a temporary folder: its path means nothing to a reader.
  return IS_STANDALONE
    ? `the policy built into the netguard ${VERSION} executable (pass --config to use your own)`
    : `${path} (bundled with netguard ${VERSION}; pass --config to use your own)`;
}

/** `--exceptions`: the GuardrailException file, declared once for every command that applies waivers. */
export function exceptionsOption(description = 'GuardrailException file'): Option {
  return new Option('--exceptions <path>', description).default('policies/exceptions.yaml');
}
