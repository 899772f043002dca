import { existsSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { Document, Scalar } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../config/duration.ts';
import { loadPolicyFile } from '../config/load.ts';
import { DEFAULTS } from '../config/policy.ts';
import { exceptionsPathIn, listExceptions, waiversFromObjects } from '../exceptions/cluster-source.ts';
import { loadExceptionFile } from '../exceptions/file-source.ts';
import { renderWaiverTable, waiverRows } from '../exceptions/listing.ts';
import { canonicalKind, exceptionObject, resolveExpiry, type ExceptionRequest } from '../exceptions/request.ts';
import { countWaiversByState, WAIVER_STATES } from '../exceptions/state.ts';
import type { Waiver } from '../exceptions/waiver.ts';
import { clusterRequested, loadKubeConfig } from '../kube/client.ts';
import { KubeApiError, kubeRest } from '../kube/rest.ts';
import { RULES_BY_ID } from '../rules/registry.ts';
import { configOption, contextOption, exceptionsOption, kubeconfigOption, parseOptions, UsageError } from './options.ts';

export interface ExceptionIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: Date;
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PLACEHOLDERS = new Set(['...', '…', 'todo', 'tbd']);

export const requestOptionsSchema = z.strictObject({
  namespace: z.string().regex(DNS_NAME, { message: 'expected a namespace name' }),
  rule: z.string().min(1, { message: 'name at least one rule ID, e.g. --rule NP004' }),
  target: z.string().min(1).optional(),
  selector: z.string().min(1).optional(),
  reason: z.string().trim().min(1, { message: 'say why the guardrail cannot be met yet' }).refine((text) => !PLACEHOLDERS.has(text.toLowerCase()), { message: 'replace the placeholder with the real reason' }),
  owner: z.string().trim().min(1, { message: 'name the team or person who answers for this waiver' }),
  expires: z.string().min(1),
  ticket: z.string().min(1).optional(),
  name: z.string().regex(DNS_NAME, { message: 'expected a lowercase DNS name' }).max(63).optional(),
  apply: z.boolean().optional(),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});
type RequestOptions = z.infer<typeof requestOptionsSchema>;

function parseRules(text: string): string[] {
  const rules = text.split(',').map((rule) => rule.trim().toUpperCase()).filter((rule) => rule !== '');
  for (const rule of rules) {
    if (!RULES_BY_ID.has(rule) || rule.startsWith('EX')) {
      throw new UsageError(`--rule: unknown or unwaivable rule ID ${rule} (known: ${[...RULES_BY_ID.keys()].filter((id) => !id.startsWith('EX')).join(', ')})`);
    }
  }
  if (rules.length === 0) throw new UsageError('--rule: name at least one rule ID, e.g. --rule NP004');
  return rules;
}

function parseSelector(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const term of text.split(',')) {
    const match = /^([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$/.exec(term.trim());
    if (match === null) throw new UsageError(`--selector: expected key=value[,key=value], got ${JSON.stringify(term)}`);
    labels[match[1] ?? ''] = match[2] ?? '';
  }
  return labels;
}

/** Flags → a request; every problem is a UsageError naming the flag. */
export function requestFromOptions(options: RequestOptions): ExceptionRequest {
  const rules = parseRules(options.rule);
  const [kindText = '', name, ...rest] = (options.target ?? (options.selector !== undefined ? 'Deployment' : '')).split('/');
  if (kindText === '') throw new UsageError('--target: name what the waiver covers, e.g. --target networkpolicy/crawler-egress (or --selector app=crawler for a Deployment)');
  const kind = canonicalKind(kindText);
  if (kind === undefined || rest.length > 0) throw new UsageError(`--target: expected KIND/NAME such as networkpolicy/crawler-egress, got ${JSON.stringify(options.target)}`);
  if ((name === undefined || name === '') === (options.selector === undefined)) {
    throw new UsageError('--target/--selector: give --target KIND/NAME, or --target KIND with --selector key=value, not both');
  }
  return {
    namespace: options.namespace,
    rules,
    kind,
    name: name === '' ? undefined : name,
    selector: options.selector === undefined ? undefined : parseSelector(options.selector),
    reason: options.reason.trim(),
    owner: options.owner.trim(),
    ticket: options.ticket,
    expires: options.expires,
    objectName: options.name,
  };
}

function apiMessage(err: unknown): string {
  if (err instanceof KubeApiError) return `HTTP ${err.code}: ${err.status}`;
  return err instanceof Error ? err.message : String(err);
}

/** YAML with the timestamp quoted, so YAML 1.1 readers (kubectl) keep it a string. */
function asYaml(object: Record<string, unknown>, expires: string): string {
  const doc = new Document(object);
  const quoted = new Scalar(expires);
  quoted.type = 'QUOTE_DOUBLE';
  doc.setIn(['spec', 'expires'], quoted);
  return doc.toString();
}

/** `netguard exception request`: prints the GuardrailException as YAML, or creates it with --apply. Returns the exit code. */
export async function runExceptionRequest(options: RequestOptions, io: ExceptionIo): Promise<number> {
  const request = requestFromOptions(options);
  const expires = resolveExpiry(request.expires, io.now);
  if (expires === undefined) throw new UsageError('--expires: expected a duration such as 14d, a date such as 2026-12-06, or an RFC 3339 timestamp');
  if (Date.parse(expires) <= io.now.getTime()) throw new UsageError(`--expires: ${expires} is not in the future`);
  const object = exceptionObject(request, expires);
  if (options.apply !== true) {
    io.stdout(asYaml(object, expires));
    return 0;
  }
  const kc = loadKubeConfig(options);
  const metadata = z.object({ name: z.string(), namespace: z.string() }).parse(object['metadata']);
  try {
    await kubeRest(kc).create(exceptionsPathIn(metadata.namespace), object);
  } catch (err) {
    io.stderr(`netguard: cannot create GuardrailException ${metadata.namespace}/${metadata.name}: ${apiMessage(err)}\n`);
    return 1;
  }
  io.stdout(
    `guardrailexception.netguard.dev/${metadata.name} created in namespace ${metadata.namespace}; ` +
      `it waives nothing until a member of the approver groups sets spec.approvedBy (kubectl -n ${metadata.namespace} edit gex ${metadata.name})\n`,
  );
  return 0;
}

const listOptions = z.strictObject({
  exceptions: z.string().min(1),
  config: z.string().min(1),
  namespace: z.string().regex(DNS_NAME, { message: 'expected a namespace name' }).optional(),
  allNamespaces: z.boolean().optional(),
  state: z.enum(WAIVER_STATES).optional(),
  output: z.enum(['table', 'json']),
  at: z.iso.datetime({ offset: true, message: 'expected an RFC 3339 timestamp such as 2026-12-06T00:00:00Z' }).optional(),
  cluster: z.boolean().optional(),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});
type ListOptions = z.infer<typeof listOptions>;

function warnBeforeMs(configPath: string): number {
  if (existsSync(configPath)) return loadPolicyFile(configPath).exceptions.warnBeforeMs;
  return parseDuration(DEFAULTS.warnBefore) ?? 0;
}

function contextNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}

async function clusterWaivers(options: ListOptions, io: ExceptionIo): Promise<{ waivers: Waiver[]; namespace: string | undefined }> {
  const kc = loadKubeConfig(options);
  const namespace = options.allNamespaces === true ? undefined : (options.namespace ?? contextNamespace(kc));
  const items = await listExceptions(kubeRest(kc), namespace);
  const waivers = waiversFromObjects(items, (object, problems) => {
    io.stderr(`netguard: skipping an invalid GuardrailException ${JSON.stringify(object['metadata'] ?? {})}: ${problems.join('; ')}\n`);
  });
  return { waivers, namespace };
}

/** `netguard exception list`: the waivers in the file (default) or the cluster, with their state as of now (or --at). */
export async function runExceptionList(options: ListOptions, io: ExceptionIo): Promise<number> {
  const now = options.at === undefined ? io.now : new Date(options.at);
  const warnBefore = warnBeforeMs(options.config);
  const fromCluster = options.cluster === true || options.context !== undefined || clusterRequested(options);
  let waivers: readonly Waiver[];
  let namespace = options.allNamespaces === true ? undefined : options.namespace;
  if (fromCluster) {
    try {
      ({ waivers, namespace } = await clusterWaivers(options, io));
    } catch (err) {
      io.stderr(`netguard: cannot list GuardrailExceptions: ${apiMessage(err)}\n`);
      return 1;
    }
  } else {
    waivers = loadExceptionFile(options.exceptions).waivers;
  }
  const scoped = waivers.filter((waiver) => namespace === undefined || waiver.namespace === namespace);
  const rows = waiverRows(scoped, now, warnBefore).filter((row) => options.state === undefined || row.state === options.state);
  if (options.output === 'json') {
    io.stdout(`${JSON.stringify({ exceptions: rows, summary: countWaiversByState(scoped, now, warnBefore) }, null, 2)}\n`);
  } else {
    io.stdout(renderWaiverTable(rows));
  }
  return 0;
}

const cliIo = (): ExceptionIo => ({ stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text), now: new Date() });

export function registerException(program: Command): void {
  const exception = program.command('exception').description('request and list GuardrailExceptions: owned, approved waivers that always expire');
  exception
    .command('request')
    .description('print a GuardrailException as YAML (or create it with --apply); it waives nothing until approved')
    .requiredOption('-n, --namespace <name>', 'namespace of the object to waive (Namespace waivers go to netguard-system)')
    .requiredOption('--rule <ids>', 'rule ID(s) to waive, comma-separated: NP004 or NP004,NP005')
    .option('--target <kind/name>', 'what to waive: networkpolicy/NAME, deployment/NAME, namespace/NAME; or just KIND with --selector')
    .option('--selector <k=v,...>', 'label selector for workloads and Pods (with --target KIND; default kind Deployment)')
    .requiredOption('--reason <text>', 'why the guardrail cannot be met yet')
    .requiredOption('--owner <who>', 'team or person who answers for the waiver')
    .requiredOption('--expires <when>', 'a duration from now (14d) or a date (2026-12-06) or an RFC 3339 timestamp')
    .option('--ticket <id>', 'tracking ticket')
    .option('--name <name>', 'name of the GuardrailException (default: rules and target)')
    .option('--apply', 'create it in the cluster instead of printing it')
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .action(async (raw: Record<string, unknown>) => {
      process.exitCode = await runExceptionRequest(parseOptions(requestOptionsSchema, raw), cliIo());
    });
  exception
    .command('list')
    .description('list exceptions with their state (active, expiring, expired, pending), from the file or the cluster')
    .addOption(exceptionsOption())
    .addOption(configOption('GuardrailPolicy file (for exceptions.warnBefore)'))
    .option('-n, --namespace <name>', 'only this namespace')
    .option('-A, --all-namespaces', 'every namespace (the default for the file)')
    .option('--state <state>', 'only active, expiring, expired or pending')
    .option('-o, --output <format>', 'table or json', 'table')
    .option('--at <timestamp>', 'states as of this instant instead of now, e.g. 2026-12-07T00:00:00Z')
    .option('--cluster', 'read the cluster (current kubeconfig) instead of the file')
    .addOption(kubeconfigOption('read the cluster through this kubeconfig'))
    .option('--context <name>', 'kubeconfig context (implies --cluster)')
    .action(async (raw: Record<string, unknown>) => {
      process.exitCode = await runExceptionList(parseOptions(listOptions, raw), cliIo());
    });
}
