import { Option } from 'commander';
import { z } from 'zod';
import { UsageError } from '../errors.ts';
import { formatIssues } from '../zod-errors.ts';
import { bundledPolicyPath, VERSION } from '../package-info.ts';

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
  return path === bundledPolicyPath()
    ? `${path} (bundled with netguard ${VERSION}; pass --config to use your own)`
    : path;
}

/** `--exceptions`: the GuardrailException file, declared once for every command that applies waivers. */
export function exceptionsOption(description = 'GuardrailException file'): Option {
  return new Option('--exceptions <path>', description).default('policies/exceptions.yaml');
}
