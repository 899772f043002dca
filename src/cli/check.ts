import { UsageError } from '../errors.ts';
import type { Command } from 'commander';
import {
  CLUSTER_SCOPED_POLICY_KINDS,
  ENVIRONMENT_LABEL,
  unknownNamespace,
  type KubeObject,
} from '../vocabulary.ts';
import { z } from 'zod';
import type { Environment, Policy } from '../config/policy.ts';
import { staticClusterView } from '../engine/cluster-view.ts';
import { validate } from '../engine/evaluate.ts';
import type { AdmissionInput, Decision, EvaluationContext } from '../engine/types.ts';
import {
  describeLocation,
  readManifests,
  STDIN,
  type Manifest,
  type ManifestError,
  type ManifestSet,
  type SkippedInput,
} from '../manifests.ts';
import {
  renderJson,
  renderText,
  renderYaml,
  type CheckReport,
  type CheckResult,
} from './check-output.ts';
import { JUNIT_FLAVORS, renderGithub, renderJunit, renderSarif } from './check-ci-formats.ts';
import { matchEnvironment } from '../config/environment.ts';
import { loadWorld, type World } from '../world.ts';
import {
  configOption,
  describePolicy,
  exceptionsOption,
  outputOption,
  parseOptions,
} from './options.ts';
import { cliIo, readStdin } from './io.ts';

export const CHECK_FORMATS = ['text', 'json', 'yaml', 'sarif', 'junit', 'github'] as const;
const DEFAULT_NAMESPACE = 'default';

const checkOptions = z.strictObject({
  filename: z
    .array(z.string().min(1))
    .min(1, { message: 'name at least one file, directory or - for stdin' }),
  config: z.string().min(1),
  exceptions: z.string().min(1),
  environment: z.string().min(1).optional(),
  // Absent: objects that name no namespace land in "default", and the output says it guessed.
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'expected a namespace name' })
    .optional(),
  output: z.enum(CHECK_FORMATS),
  // deny: exit 1 when something would be denied; warn: also when something is admitted with warnings.
  failOn: z.enum(['deny', 'warn']),
  failOnSkipped: z.boolean(),
  exclude: z.array(z.string().min(1)),
  junitFlavor: z.enum(JUNIT_FLAVORS),
});
export type CheckOptions = z.infer<typeof checkOptions>;

/** Exit codes, as DESIGN.md fixes them for CI: admitted, something denied, bad usage or input. */
export const EXIT_ADMITTED = 0;
export const EXIT_DENIED = 1;
export const EXIT_INPUT_ERROR = 2;

// Kinds without a namespace; every other kind lands in --namespace when it names none, as with kubectl.
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  ...CLUSTER_SCOPED_POLICY_KINDS,
]);

function metadataOf(object: KubeObject): Record<string, unknown> {
  const metadata = object['metadata'];
  return metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)
    ? { ...metadata }
    : {};
}

/** A copy with the namespace the API server would give it. */
function placed(manifest: Manifest, defaultNamespace: string): KubeObject {
  const object = manifest.object;
  const kind = String(object['kind']);
  const metadata = metadataOf(object);
  if (CLUSTER_SCOPED.has(kind)) delete metadata['namespace'];
  else if (typeof metadata['namespace'] !== 'string') metadata['namespace'] = defaultNamespace;
  return { ...object, metadata };
}

/**
 * `--environment NAME`: a what-if in which that environment is the only one, matching every
 * namespace (a label alone could not do it: a label weaker than a namespace's own environment is ignored).
 */
function onlyEnvironment(policy: Policy, environment: Environment | undefined): Policy {
  if (environment === undefined) return policy;
  const everywhere: Environment = { ...environment, patterns: [/^/], selector: undefined };
  return { ...policy, environments: [everywhere], defaultEnvironment: everywhere };
}

function inputFor(object: KubeObject, index: number): AdmissionInput {
  const metadata = metadataOf(object);
  const kind = String(object['kind']);
  return {
    uid: `check-${index + 1}`,
    kind,
    operation: 'CREATE',
    namespace: kind === 'Namespace' ? '' : String(metadata['namespace'] ?? ''),
    name: typeof metadata['name'] === 'string' ? metadata['name'] : '',
    object,
    oldObject: undefined,
    // As `kubectl apply` of a new object by someone with no special standing.
    user: { username: '', groups: [] },
    dryRun: true,
    offline: true,
  };
}

function resultOf(manifest: Manifest, decision: Decision): CheckResult {
  return { manifest, decision };
}

/** Judges every manifest with the webhook's own engine; pure apart from the clock. */
export function judgeManifests(
  manifests: readonly Manifest[],
  options: { world: World; environment: Environment | undefined; namespace: string; now: Date },
): CheckResult[] {
  const objects = manifests.map((manifest) => placed(manifest, options.namespace));
  const world = options.world.context(options.now, staticClusterView(objects));
  const ctx: EvaluationContext = {
    ...world,
    policy: onlyEnvironment(world.policy, options.environment),
  };
  return manifests.map((manifest, index) => {
    const object = objects[index] ?? manifest.object;
    return resultOf(manifest, validate(inputFor(object, index), ctx));
  });
}

function environmentNamed(policy: Policy, name: string | undefined): Environment | undefined {
  if (name === undefined) return undefined;
  const found = policy.environments.find((env) => env.name === name);
  if (found === undefined) {
    throw new UsageError(
      `--environment: unknown environment "${name}" (known: ${policy.environments.map((env) => env.name).join(', ')})`,
    );
  }
  return found;
}

export interface CheckIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: () => string;
  readonly color: boolean;
  readonly now: Date;
  /** kubectl for kustomizations (default `kubectl` on PATH; without it the listed resources are read). */
  readonly kubectl?: string;
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/**
 * Loud warnings for verdicts that rest on a guess: objects that named no namespace (and no
 * --namespace was given), and namespaces no environment of the policy claims, which land in the
 * default environment (observe in the shipped policy: nothing is ever denied there).
 */
function environmentGuesses(
  results: readonly CheckResult[],
  manifests: readonly Manifest[],
  options: CheckOptions,
  policy: Policy,
): string[] {
  if (options.environment !== undefined) return [];
  const guesses: string[] = [];
  const unplaced = manifests.filter(
    (m) =>
      m.object['kind'] !== 'Namespace' && typeof metadataOf(m.object)['namespace'] !== 'string',
  );
  if (options.namespace === undefined && unplaced.length > 0) {
    guesses.push(
      `${plural(unplaced.length, 'object')} ${unplaced.length === 1 ? 'names' : 'name'} no namespace and no --namespace was given: judged in namespace "${DEFAULT_NAMESPACE}".`,
    );
  }
  const cluster = staticClusterView(
    manifests.map((manifest) => placed(manifest, options.namespace ?? DEFAULT_NAMESPACE)),
  );
  const byNamespace = new Map<string, number>();
  for (const { decision } of results) {
    if (decision.skipped !== undefined || decision.environment === undefined) continue;
    const name = decision.kind === 'Namespace' ? decision.name : decision.namespace;
    if (
      matchEnvironment(policy, cluster.namespace(name) ?? unknownNamespace(name)).by === 'default'
    )
      byNamespace.set(name, (byNamespace.get(name) ?? 0) + 1);
  }
  const fallback = policy.defaultEnvironment;
  for (const [name, count] of byNamespace) {
    guesses.push(
      `namespace "${name}" matches no environment of the policy (no ${ENVIRONMENT_LABEL} label, selector or name pattern): ` +
        `${plural(count, 'object')} judged in the default environment ${fallback.name} (${fallback.mode})` +
        `${fallback.mode === 'observe' ? ', which never denies' : ''}. Pass --environment NAME, or --namespace with the real namespace.`,
    );
  }
  return guesses;
}

const RENDER: Readonly<
  Record<
    CheckOptions['output'],
    (report: CheckReport, policy: Policy, color: boolean, options: CheckOptions) => string
  >
> = {
  text: (report, policy, color) => renderText(report, { color, policy }),
  json: renderJson,
  yaml: renderYaml,
  sarif: renderSarif,
  junit: (report, _policy, _color, options) => renderJunit(report, options.junitFlavor),
  github: renderGithub,
};

/** Admitted, but with a warning no waiver covers: what `--fail-on warn` fails on. */
const warnedUnwaived = (result: CheckResult): boolean =>
  result.decision.findings.some(
    (finding) => finding.level === 'warn' && finding.waivedBy === undefined,
  );

function skippedLines(skipped: readonly SkippedInput[], failOnSkipped: boolean): string[] {
  if (skipped.length === 0) return [];
  return [
    ...skipped.map(
      (input) => `skipped ${describeLocation({ ...input, item: undefined })}: ${input.reason}`,
    ),
    `skipped ${plural(skipped.length, 'input')} that ${skipped.length === 1 ? 'is' : 'are'} not Kubernetes manifests` +
      (failOnSkipped
        ? ' (--fail-on-skipped: exit 2)'
        : ' (pass --fail-on-skipped to fail on them, --exclude GLOB to stop reading them)'),
  ];
}

/** The exit code: input errors, then denials, then what --fail-on and --fail-on-skipped add. */
function exitCode(
  options: CheckOptions,
  results: readonly CheckResult[],
  read: ManifestSet,
): number {
  if (read.errors.length > 0) return EXIT_INPUT_ERROR;
  if (options.failOnSkipped && read.skipped.length > 0) return EXIT_INPUT_ERROR;
  if (results.some((result) => !result.decision.allowed)) return EXIT_DENIED;
  if (options.failOn === 'warn' && results.some(warnedUnwaived)) return EXIT_DENIED;
  return EXIT_ADMITTED;
}

function loudly(lines: readonly string[]): string {
  if (lines.length === 0) return '';
  const bar = '!'.repeat(78);
  return `${[bar, ...lines.map((line) => `!! WARNING: ${line}`), bar].join('\n')}\n`;
}

/** `netguard check`: read, judge, report; returns the exit code. */
export function runCheck(options: CheckOptions, io: CheckIo): number {
  const world = loadWorld(options);
  const policy = world.policy();
  const environment = environmentNamed(policy, options.environment);
  const read = readManifests(options.filename, io.stdin, {
    exclude: options.exclude,
    ...(io.kubectl === undefined ? {} : { kubectl: io.kubectl }),
  });
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const results = judgeManifests(read.manifests, { world, environment, namespace, now: io.now });
  const guesses = environmentGuesses(results, read.manifests, options, policy);
  const report: CheckReport = {
    results,
    errors: read.errors,
    policy: describePolicy(options.config),
    notes: [...read.notes, ...skippedLines(read.skipped, options.failOnSkipped)],
    skipped: read.skipped,
    guesses,
    namespaceGuessed: options.namespace === undefined,
  };
  io.stdout(RENDER[options.output](report, policy, io.color, options));
  io.stderr(loudly(guesses));
  for (const note of report.notes) io.stderr(`netguard: ${note}\n`);
  for (const error of read.errors) io.stderr(`netguard: ${describeError(error)}\n`);
  return exitCode(options, results, read);
}

function describeError(error: ManifestError): string {
  return `${describeLocation(error)}: ${error.problem}`;
}

/** The process's own streams; tests pass their own to run `check` in-process. */
export async function processCheckIo(options: CheckOptions): Promise<CheckIo> {
  const stdinText = options.filename.includes(STDIN) ? await readStdin() : '';
  const io = cliIo();
  return {
    stdout: io.stdout,
    stderr: io.stderr,
    stdin: () => stdinText,
    color: io.stdoutIsTTY && io.env['NO_COLOR'] === undefined,
    now: new Date(),
  };
}

/** Where `check` meets its process: streams and exit code. Tests run it in-process with their own. */
export interface CheckHost {
  readonly io: (options: CheckOptions) => Promise<CheckIo>;
  readonly exit: (code: number) => void;
}

const PROCESS_HOST: CheckHost = {
  io: processCheckIo,
  exit: (code) => cliIo().exit(code),
};

export function registerCheck(program: Command, host: CheckHost = PROCESS_HOST): void {
  program
    .command('check')
    .description(
      "judge manifests offline with the webhook's engine and config; exit 0 admitted, 1 denied, 2 usage or input error",
    )
    .option(
      '-f, --filename <path...>',
      'files, directories (recursive: .yaml, .yml, .json; a kustomization rendered) or - for stdin; repeatable',
    )
    .addOption(configOption())
    .addOption(exceptionsOption())
    .option(
      '--environment <name>',
      'judge every object as if its namespace were in this environment',
    )
    .option(
      '-n, --namespace <name>',
      'namespace for objects that name none (default: "default", with a warning)',
    )
    .addOption(outputOption(CHECK_FORMATS))
    .option(
      '--fail-on <level>',
      'deny: exit 1 when an object would be denied; warn: also when one is admitted with warnings',
      'deny',
    )
    .option(
      '--fail-on-skipped',
      'exit 2 when a directory walk skipped files or documents that are not Kubernetes manifests',
      false,
    )
    .option(
      '--exclude <glob...>',
      'paths not to read in directories (e.g. "charts/**", "*.tmpl.yaml"); repeatable',
    )
    .option(
      '--junit-flavor <flavor>',
      `${JUNIT_FLAVORS.join(', ')}: jenkins puts file on each <testsuite> (junit-10.xsd), gitlab on each <testcase>`,
      'jenkins',
    )
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(checkOptions, {
        ...raw,
        filename: raw['filename'] ?? [],
        exclude: raw['exclude'] ?? [],
      });
      host.exit(runCheck(options, await host.io(options)));
    });
}
