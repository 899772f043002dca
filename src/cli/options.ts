import { Option } from 'commander';
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { formatIssues } from '../zod-errors.ts';
import { bundledPolicyPath, IS_STANDALONE, VERSION } from '../package-info.ts';

// The values each option takes, for completion. Commander's own choices() would also reject a
// value, before parseOptions names the flag in its usual words; these only describe.
const VALUES = new WeakMap<Option, readonly string[]>();

/** The values `option` takes (an --output's formats, --log-level's levels), for completion. */
export function valuesOf(option: Option): readonly string[] | undefined {
  return VALUES.get(option);
}

/** `-o, --output <format>`: one builder for every command, each with its own formats. */
export function outputOption(formats: readonly string[], description = formats.join(', ')): Option {
  const option = new Option('-o, --output <format>', description).default('text');
  VALUES.set(option, formats);
  return option;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `--log-level <level>` of the long-running commands (serve, controller). */
export function logLevelOption(): Option {
  const option = new Option(
    '--log-level <level>',
    'fatal, error, warn, info, debug, trace or silent',
  ).default('info');
  VALUES.set(option, LOG_LEVELS);
  return option;
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
