import type { Command } from 'commander';
import { ENVIRONMENT_LABEL, unknownNamespace, type KubeObject } from '../vocabulary.ts';
import { z } from 'zod';
import type { Environment, Policy } from '../config/policy.ts';
import { staticClusterView } from '../engine/cluster-view.ts';
import { validate } from '../engine/evaluate.ts';
import type { AdmissionInput, ClusterView, Decision, EvaluationContext } from '../engine/types.ts';
import { describeLocation, readManifests, STDIN, type Manifest, type ManifestError } from '../manifests.ts';
import { renderJson, renderText, type CheckReport, type CheckResult } from './check-output.ts';
import { loadWorld, type World } from '../world.ts';
import { configOption, exceptionsOption, parseOptions, UsageError } from './options.ts';

const checkOptions = z.strictObject({
  filename: z.array(z.string().min(1)).min(1, { message: 'name at least one file, directory or - for stdin' }),
  config: z.string().min(1),
  exceptions: z.string().min(1),
  environment: z.string().min(1).optional(),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'expected a namespace name' }),
  output: z.enum(['text', 'json']),
});
export type CheckOptions = z.infer<typeof checkOptions>;

/** Exit codes, as DESIGN.md fixes them for CI: admitted, something denied, bad usage or input. */
export const EXIT_ADMITTED = 0;
export const EXIT_DENIED = 1;
export const EXIT_INPUT_ERROR = 2;

// Kinds without a namespace; every other kind lands in --namespace when it names none, as with kubectl.
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PersistentVolume', 'StorageClass', 'PriorityClass', 'IngressClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']);

function metadataOf(object: KubeObject): Record<string, unknown> {
  const metadata = object['metadata'];
  return metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) ? { ...metadata } : {};
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

/** `--environment NAME`: every namespace carries the environment label, which wins over selectors and patterns. */
function forceEnvironment(view: ClusterView, environment: Environment | undefined): ClusterView {
  if (environment === undefined) return view;
  return {
    ...view,
    namespace(name) {
      const known = view.namespace(name);
      return {
        name,
        labels: { ...unknownNamespace(name).labels, ...known?.labels, [ENVIRONMENT_LABEL]: environment.name },
        annotations: known?.annotations ?? {},
      };
    },
  };
}

function withEnvironmentLabel(object: KubeObject, environment: Environment | undefined): KubeObject {
  if (environment === undefined || object['kind'] !== 'Namespace') return object;
  const metadata = metadataOf(object);
  const labels = metadata['labels'];
  metadata['labels'] = { ...(labels !== null && typeof labels === 'object' ? labels : {}), [ENVIRONMENT_LABEL]: environment.name };
  return { ...object, metadata };
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
  const objects = manifests.map((manifest) => withEnvironmentLabel(placed(manifest, options.namespace), options.environment));
  const cluster = forceEnvironment(staticClusterView(objects), options.environment);
  const ctx: EvaluationContext = options.world.context(options.now, cluster);
  return manifests.map((manifest, index) => {
    const object = objects[index] ?? manifest.object;
    return resultOf(manifest, validate(inputFor(object, index), ctx));
  });
}

function environmentNamed(policy: Policy, name: string | undefined): Environment | undefined {
  if (name === undefined) return undefined;
  const found = policy.environments.find((env) => env.name === name);
  if (found === undefined) {
    throw new UsageError(`--environment: unknown environment "${name}" (known: ${policy.environments.map((env) => env.name).join(', ')})`);
  }
  return found;
}

export interface CheckIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: () => string;
  readonly color: boolean;
  readonly now: Date;
}

/** `netguard check`: read, judge, report; returns the exit code. */
export function runCheck(options: CheckOptions, io: CheckIo): number {
  const world = loadWorld(options);
  const policy = world.policy();
  const environment = environmentNamed(policy, options.environment);
  const { manifests, errors } = readManifests(options.filename, io.stdin);
  const results = judgeManifests(manifests, { world, environment, namespace: options.namespace, now: io.now });
  const report: CheckReport = { results, errors };
  io.stdout(options.output === 'json' ? renderJson(report) : renderText(report, { color: io.color, policy }));
  for (const error of errors) io.stderr(`netguard: ${describeError(error)}\n`);
  if (errors.length > 0) return EXIT_INPUT_ERROR;
  return results.some((result) => !result.decision.allowed) ? EXIT_DENIED : EXIT_ADMITTED;
}

function describeError(error: ManifestError): string {
  return `${describeLocation(error)}: ${error.problem}`;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('judge manifests offline with the webhook\'s engine and config; exit 0 admitted, 1 denied, 2 usage or input error')
    .option('-f, --filename <path...>', 'files, directories (recursive: .yaml, .yml, .json) or - for stdin; repeatable')
    .addOption(configOption())
    .addOption(exceptionsOption())
    .option('--environment <name>', 'judge every object as if its namespace were in this environment')
    .option('-n, --namespace <name>', 'namespace for objects that name none', 'default')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(checkOptions, { ...raw, filename: raw['filename'] ?? [] });
      const stdinText = options.filename.includes(STDIN) ? await readStdin() : '';
      process.exitCode = runCheck(options, {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        stdin: () => stdinText,
        color: process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined,
        now: new Date(),
      });
    });
}
