import { KubeApiError, UsageError } from '../errors.ts';
import { existsSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { Document, Scalar, stringify } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../config/duration.ts';
import { resolveEnvironment } from '../config/environment.ts';
import { DEFAULTS, type Environment, type Policy } from '../config/policy.ts';
import { GUARDRAIL_EXCEPTION_SOURCE } from '../exceptions/object-source.ts';
import type { ExceptionRegistry } from '../exceptions/registry.ts';
import { loadPolicyIfPresent, loadWaivers, type ClusterListing } from '../world.ts';
import type { KubeObject } from '../vocabulary.ts';
import { renderWaiverTable, waiverRows } from '../exceptions/listing.ts';
import {
  approve,
  createWithFreeName,
  exceptionsPath,
  readException,
  renewalOf,
} from '../kube/exception-writes.ts';
import {
  canonicalKind,
  defaultExceptionName,
  exceptionObject,
  resolveExpiry,
  type ExceptionRequest,
} from '../exceptions/request.ts';
import { countWaiversByState, daysLeft, daysLeftText, WAIVER_STATES } from '../exceptions/state.ts';
import { escapeControls, escapeControlLines } from '../terminal-text.ts';
import { toWaiver, targetLabel, type Waiver } from '../exceptions/waiver.ts';
import { REASON_PLACEHOLDER } from '../engine/message.ts';
import { clusterRequested, type ClusterFlags } from '../kube/cluster-flags.ts';
import { kubeRest } from '../kube/rest.ts';
import { whoAmI } from '../kube/whoami.ts';
import { RULES, RULES_BY_ID } from '../rules/registry.ts';
import { requestRefusals } from './request-preview.ts';
import { bundledPolicyPath } from '../package-info.ts';
import {
  configOption,
  describePolicy,
  contextOption,
  exceptionsOption,
  kubeconfigOption,
  outputOption,
  parseOptions,
} from './options.ts';
import { cliIo } from './io.ts';

// `text` is the name every command uses; `table` is kept as its alias (accepted, not offered).
const LIST_FORMATS = ['text', 'json', 'yaml'] as const;

export interface ExceptionIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: Date;
  /** The environment (KUBECONFIG decides where `exception list` reads, as with kubectl); absent in tests. */
  readonly env?: NodeJS.ProcessEnv;
  /** Asks the person at the terminal; absent when stdin is not a TTY (CI, pipes), so nothing waits. */
  readonly ask?: ((question: string) => Promise<string>) | undefined;
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PLACEHOLDERS = new Set(['...', '…', 'todo', 'tbd', 'n/a', REASON_PLACEHOLDER]);
/** The denial's `<why this is needed>`, or any `<...>` left unedited. */
const isPlaceholder = (text: string): boolean =>
  PLACEHOLDERS.has(text.trim().toLowerCase()) || /^<[^>]*>$/.test(text.trim());
const reasonSchema = z
  .string()
  .trim()
  .min(1, { message: 'say why the guardrail cannot be met yet' })
  .refine((text) => !isPlaceholder(text), {
    message: 'replace the placeholder with the real reason',
  });

export const requestOptionsSchema = z.strictObject({
  namespace: z.string().regex(DNS_NAME, { message: 'expected a namespace name' }),
  rule: z.string().min(1, { message: 'name at least one rule ID, e.g. --rule NP004' }),
  target: z.string().min(1).optional(),
  selector: z.string().min(1).optional(),
  reason: reasonSchema.optional(),
  owner: z
    .string()
    .trim()
    .min(1, { message: 'name the team or person who answers for this waiver' })
    .optional(),
  expires: z.string().min(1),
  ticket: z.string().min(1).optional(),
  name: z.string().regex(DNS_NAME, { message: 'expected a lowercase DNS name' }).max(63).optional(),
  apply: z.boolean().optional(),
  // The policy the printed waiver is judged with (EX001, EX002) before anyone applies it.
  config: z.string().min(1).optional(),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});
type RequestOptions = z.infer<typeof requestOptionsSchema>;

function parseRules(text: string): string[] {
  const rules = text
    .split(',')
    .map((rule) => rule.trim().toUpperCase())
    .filter((rule) => rule !== '');
  for (const rule of rules) {
    if (!RULES_BY_ID.has(rule) || rule.startsWith('EX')) {
      throw new UsageError(
        `--rule: unknown or unwaivable rule ID ${rule} (known: ${[...RULES_BY_ID.keys()].filter((id) => !id.startsWith('EX')).join(', ')})`,
      );
    }
  }
  if (rules.length === 0)
    throw new UsageError('--rule: name at least one rule ID, e.g. --rule NP004');
  return rules;
}

function parseSelector(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const term of text.split(',')) {
    const match = /^([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$/.exec(term.trim());
    if (match === null)
      throw new UsageError(
        `--selector: expected key=value[,key=value], got ${JSON.stringify(term)}`,
      );
    labels[match[1] ?? ''] = match[2] ?? '';
  }
  return labels;
}

/** Flags → a request; every problem is a UsageError naming the flag. */
export function requestFromOptions(
  options: RequestOptions & { readonly reason: string },
): ExceptionRequest {
  const rules = parseRules(options.rule);
  const [kindText = '', name, ...rest] = (
    options.target ?? (options.selector !== undefined ? 'Deployment' : '')
  ).split('/');
  if (kindText === '')
    throw new UsageError(
      '--target: name what the waiver covers, e.g. --target networkpolicy/crawler-egress (or --selector app=crawler for a Deployment)',
    );
  const kind = canonicalKind(kindText, RULES);
  if (kind === undefined || rest.length > 0)
    throw new UsageError(
      `--target: expected KIND/NAME such as networkpolicy/crawler-egress, got ${JSON.stringify(options.target)}`,
    );
  if ((name === undefined || name === '') === (options.selector === undefined)) {
    throw new UsageError(
      '--target/--selector: give --target KIND/NAME, or --target KIND with --selector key=value, not both',
    );
  }
  return {
    namespace: options.namespace,
    rules,
    kind,
    name: name === '' ? undefined : name,
    selector: options.selector === undefined ? undefined : parseSelector(options.selector),
    reason: options.reason.trim(),
    owner: options.owner?.trim(),
    ticket: options.ticket,
    expires: options.expires,
    objectName: options.name,
  };
}

function apiMessage(err: unknown): string {
  if (err instanceof KubeApiError)
    return `Error from server (${err.reason || err.code}): ${err.statusMessage}`;
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

/** --reason, else (on a terminal) the answer to a question; a placeholder is never a reason. */
async function reasonOf(options: RequestOptions, io: ExceptionIo): Promise<string> {
  if (options.reason !== undefined) return options.reason;
  const missing =
    '--reason: say why the guardrail cannot be met yet, e.g. --reason "vendor API has no fixed addresses until Q1"';
  if (io.ask === undefined) throw new UsageError(missing);
  const parsed = reasonSchema.safeParse(
    await io.ask('Why is this waiver needed (what ends the need, and when)? '),
  );
  if (!parsed.success)
    throw new UsageError(`--reason: ${parsed.error.issues[0]?.message ?? missing}`);
  return parsed.data;
}

/** `netguard exception request`: prints the GuardrailException as YAML, or creates it with --apply. Returns the exit code. */
export async function runExceptionRequest(
  options: RequestOptions,
  io: ExceptionIo,
): Promise<number> {
  const request = requestFromOptions({ ...options, reason: await reasonOf(options, io) });
  const expires = resolveExpiry(request.expires, io.now);
  if (expires === undefined)
    throw new UsageError(
      '--expires: expected a duration such as 14d, a date such as 2026-12-06, or an RFC 3339 timestamp',
    );
  if (Date.parse(expires) <= io.now.getTime())
    throw new UsageError(`--expires: ${expires} is not in the future`);
  const object = exceptionObject(request, expires);
  const metadata = z.object({ name: z.string(), namespace: z.string() }).parse(object['metadata']);
  if (options.apply !== true) {
    io.stdout(asYaml(object, expires));
    const refusals = requestRefusals(
      object,
      metadata.namespace,
      options.config ?? bundledPolicyPath(),
      io.now,
    );
    if (refusals.length > 0) {
      io.stderr(
        `# netguard would refuse this waiver as it is (policy ${describePolicy(options.config ?? bundledPolicyPath())}):\n${refusals.map((line) => `#   ${line}`).join('\n')}\n`,
      );
    }
    io.stderr(
      `# Next: run this again with --apply to create it in the cluster (pending until an approver runs netguard exception approve),\n` +
        `# or add it to policies/exceptions.yaml by pull request${request.owner === undefined ? ' with spec.owner set' : ''}.\n`,
    );
    return 0;
  }
  const rest = kubeRest(await loadKubeConfig(options));
  // An explicit --name is the user's choice: a collision is reported, not worked around.
  const base =
    options.name ??
    defaultExceptionName(
      request.rules,
      request.name ?? Object.values(request.selector ?? {}).join('-'),
    );
  try {
    const created =
      options.name === undefined
        ? await createWithFreeName(rest, { ...object, metadata }, base)
        : await rest.create(exceptionsPath(metadata.namespace), object);
    io.stdout(createdText(created, metadata.namespace));
  } catch (err) {
    io.stderr(
      `netguard: cannot create GuardrailException ${metadata.namespace}/${base}: ${apiMessage(err)}\n`,
    );
    if (err instanceof KubeApiError && err.code === 409) {
      io.stderr(
        `netguard: leave out --name to get a free one, or renew it: netguard exception renew -n ${metadata.namespace} ${base} --expires ${request.expires}\n`,
      );
    }
    return 1;
  }
  return 0;
}

function createdText(created: Record<string, unknown>, namespace: string): string {
  const name = z.object({ metadata: z.object({ name: z.string() }) }).parse(created).metadata.name;
  const owner = z
    .object({ spec: z.object({ owner: z.string().optional() }).optional() })
    .safeParse(created).data?.spec?.owner;
  return (
    `guardrailexception.netguard.dev/${name} created in namespace ${namespace}${owner === undefined ? '' : ` (owner ${owner})`}.\n` +
    `It is pending: it waives nothing until a member of the approver groups runs:\n` +
    `  netguard exception approve -n ${namespace} ${name}\n`
  );
}

const approveOptions = z.strictObject({
  namespace: z.string().regex(DNS_NAME, { message: 'expected a namespace name' }).optional(),
  yes: z.boolean().optional(),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});
type ApproveOptions = z.infer<typeof approveOptions>;

/**
 * `netguard exception approve NAME`: signs spec.approvedBy with the caller's own username, as the
 * API server knows it (SelfSubjectReview), so EX004 can check the approver group and the requester.
 */
export async function runExceptionApprove(
  name: string,
  options: ApproveOptions,
  io: ExceptionIo,
): Promise<number> {
  const kc = await loadKubeConfig(options);
  const namespace = options.namespace ?? contextNamespace(kc);
  const rest = kubeRest(kc);
  try {
    const me = await whoAmI(rest);
    const { raw, exception } = await readException(rest, namespace, name);
    const waiver = toWaiver(exception, GUARDRAIL_EXCEPTION_SOURCE);
    const label = `${namespace}/${name}`;
    if (waiver.expiresAt <= io.now.getTime()) {
      io.stderr(
        `netguard: ${label} expired on ${waiver.expires}; nothing to approve; file a renewal: netguard exception renew -n ${namespace} ${name} --expires 7d\n`,
      );
      return 1;
    }
    if (waiver.approvedBy !== undefined && waiver.approved) {
      io.stdout(`${label} is already approved by ${waiver.approvedBy}\n`);
      return 0;
    }
    if (waiver.requestedBy === me.username) {
      io.stderr(
        `netguard: ${label} was requested by you (${me.username}); another member of the approver groups must approve it\n`,
      );
      return 1;
    }
    if (!(await confirmed(approvalSummary(label, waiver, io.now), options, io))) {
      io.stderr(`netguard: ${label} not approved\n`);
      return 1;
    }
    const resourceVersion = z
      .object({ metadata: z.object({ resourceVersion: z.string() }) })
      .parse(raw).metadata.resourceVersion;
    await approve(rest, exception, resourceVersion, me.username);
    io.stdout(
      `guardrailexception.netguard.dev/${name} approved by ${me.username}: ${[...waiver.rules].join(',')} waived for ` +
        `${targetLabel(waiver.target)} in ${namespace} until ${waiver.expires}\n`,
    );
    return 0;
  } catch (err) {
    io.stderr(
      `netguard: cannot approve GuardrailException ${namespace}/${name}: ${apiMessage(err)}\n`,
    );
    return 1;
  }
}

/** What an approver signs, first: the target, the rules and the expiry, then who asks and why. */
function approvalSummary(label: string, waiver: Waiver, now: Date): string {
  const indent = ' '.repeat(16);
  return [
    `Approving ${escapeControls(label)}:`,
    `  target:       ${escapeControls(targetLabel(waiver.target))}`,
    `  rules:        ${escapeControls([...waiver.rules].join(', '))}`,
    `  expires:      ${escapeControls(waiver.expires)} (${daysLeftText(daysLeft(waiver, now))})`,
    `  owner:        ${escapeControls(waiver.owner)}`,
    `  requested by: ${escapeControls(waiver.requestedBy ?? '(unknown)')}`,
    `  reason:       ${escapeControlLines(waiver.reason, indent)}`,
    ...(waiver.ticket === undefined ? [] : [`  ticket:       ${escapeControls(waiver.ticket)}`]),
    '',
  ].join('\n');
}

/** On a terminal the approver reads the summary and answers (--yes skips it); elsewhere it goes to stderr. */
async function confirmed(
  summary: string,
  options: ApproveOptions,
  io: ExceptionIo,
): Promise<boolean> {
  if (io.ask === undefined || options.yes === true) {
    io.stderr(summary);
    return true;
  }
  io.stdout(summary);
  const answer = await io.ask('Approve it? [y/N] ');
  return /^\s*y(es)?\s*$/i.test(answer);
}

const renewOptions = z.strictObject({
  namespace: z.string().regex(DNS_NAME, { message: 'expected a namespace name' }).optional(),
  expires: z.string().min(1),
  reason: reasonSchema.optional(),
  owner: z.string().trim().min(1).optional(),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});
type RenewOptions = z.infer<typeof renewOptions>;

/** `netguard exception renew NAME --expires D`: a new pending waiver with spec.renews, under a free name. */
export async function runExceptionRenew(
  name: string,
  options: RenewOptions,
  io: ExceptionIo,
): Promise<number> {
  const expires = resolveExpiry(options.expires, io.now);
  if (expires === undefined)
    throw new UsageError(
      '--expires: expected a duration such as 14d, a date such as 2026-12-06, or an RFC 3339 timestamp',
    );
  if (Date.parse(expires) <= io.now.getTime())
    throw new UsageError(`--expires: ${expires} is not in the future`);
  const kc = await loadKubeConfig(options);
  const namespace = options.namespace ?? contextNamespace(kc);
  const rest = kubeRest(kc);
  try {
    const { exception } = await readException(rest, namespace, name);
    const renewal = renewalOf(exception, expires, { reason: options.reason, owner: options.owner });
    const created = await createWithFreeName(rest, renewal, renewal.metadata.name);
    io.stdout(
      createdText(created, namespace).replace(' created in', ` (renews ${name}) created in`),
    );
    return 0;
  } catch (err) {
    io.stderr(
      `netguard: cannot renew GuardrailException ${namespace}/${name}: ${apiMessage(err)}\n`,
    );
    return 1;
  }
}

const listOptions = z.strictObject({
  exceptions: z.string().min(1),
  config: z.string().min(1),
  namespace: z.string().regex(DNS_NAME, { message: 'expected a namespace name' }).optional(),
  allNamespaces: z.boolean().optional(),
  state: z.enum(WAIVER_STATES).optional(),
  output: z.enum([...LIST_FORMATS, 'table']),
  at: z.iso
    .datetime({
      offset: true,
      message: 'expected an RFC 3339 timestamp such as 2026-12-06T00:00:00Z',
    })
    .optional(),
  cluster: z.boolean().optional(),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});
type ListOptions = z.infer<typeof listOptions>;

/** The environment a waiver is held to (EX001), from names alone: the namespace it covers, existing or not. */
function environmentsOf(
  policy: Policy | undefined,
): ((waiver: Waiver) => Environment | undefined) | undefined {
  if (policy === undefined) return undefined;
  return (waiver) => {
    const name =
      waiver.target.kind === 'Namespace' && waiver.target.name !== undefined
        ? waiver.target.name
        : waiver.namespace;
    return resolveEnvironment(policy, {
      name,
      labels: { 'kubernetes.io/metadata.name': name },
      annotations: {},
    });
  };
}

/** The cluster client, loaded only by the subcommands that talk to a cluster (`list` on a file never does). */
async function loadKubeConfig(flags: ClusterFlags): Promise<KubeConfig> {
  const client = await import('../kube/client.ts');
  return client.loadKubeConfig(flags);
}

function contextNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}

/** The cluster's waiver sources, each listed once (the command's namespace, or every one with -A). */
async function clusterListing(
  options: ListOptions,
  io: ExceptionIo,
): Promise<{ cluster: ClusterListing; namespace: string | undefined; kc: KubeConfig }> {
  const kc = await loadKubeConfig(options);
  const namespace =
    options.allNamespaces === true ? undefined : (options.namespace ?? contextNamespace(kc));
  // The live world's modules (caches, informers) only when the cluster is read.
  const { listClusterSources } = await import('../live-world.ts');
  const listed = await listClusterSources(kc, namespace);
  const onInvalidWaiver = (object: KubeObject, problems: string[]): void => {
    io.stderr(
      `netguard: skipping an invalid GuardrailException ${JSON.stringify(object['metadata'] ?? {})}: ${problems.join('; ')}\n`,
    );
  };
  return { cluster: { listed, onInvalidWaiver }, namespace, kc };
}

/** `netguard exception list`: the waivers in the file (default) or the cluster, with their state as of now (or --at). */
export async function runExceptionList(options: ListOptions, io: ExceptionIo): Promise<number> {
  const now = options.at === undefined ? io.now : new Date(options.at);
  // As kubectl: with KUBECONFIG set and no exceptions file here, the cluster is what was meant.
  const fromCluster =
    options.cluster === true ||
    options.context !== undefined ||
    clusterRequested(options) ||
    (io.env?.['KUBECONFIG'] !== undefined && !existsSync(options.exceptions));
  // The policy first: a broken policy is the error reported, wherever the waivers come from.
  const policy = loadPolicyIfPresent(options.config);
  let registry: ExceptionRegistry;
  let namespace = options.allNamespaces === true ? undefined : options.namespace;
  let source: string;
  if (fromCluster) {
    let listing: Awaited<ReturnType<typeof clusterListing>>;
    try {
      listing = await clusterListing(options, io);
    } catch (err) {
      io.stderr(`netguard: cannot list GuardrailExceptions: ${apiMessage(err)}\n`);
      return 1;
    }
    // The cluster's sources alone: the file is not one here.
    registry = loadWaivers({}, listing.cluster);
    const { kc } = listing;
    namespace = listing.namespace;
    source = `cluster ${kc.getCurrentCluster()?.server ?? 'in-cluster'} (context ${kc.getCurrentContext()}), ${namespace === undefined ? 'every namespace' : `namespace ${namespace}`}`;
  } else {
    registry = loadWaivers({ exceptions: options.exceptions });
    source = existsSync(options.exceptions)
      ? `file ${options.exceptions}`
      : `file ${options.exceptions}, which does not exist (pass --cluster to read the cluster)`;
  }
  const waivers = registry.all();
  const warnBefore = policy?.exceptions.warnBeforeMs ?? parseDuration(DEFAULTS.warnBefore) ?? 0;
  const scoped = waivers.filter(
    (waiver) => namespace === undefined || waiver.namespace === namespace,
  );
  const rows = waiverRows(scoped, now, warnBefore, environmentsOf(policy)).filter(
    (row) => options.state === undefined || row.state === options.state,
  );
  const listed = {
    exceptions: rows,
    summary: countWaiversByState(scoped, now, warnBefore),
    source,
  };
  if (options.output === 'text' || options.output === 'table')
    io.stderr(`netguard: read ${source}\n`);
  if (options.output === 'json') {
    io.stdout(`${JSON.stringify(listed, null, 2)}\n`);
  } else if (options.output === 'yaml') {
    io.stdout(stringify(listed, { lineWidth: 0 }));
  } else if (
    rows.length === 0 &&
    fromCluster &&
    namespace !== undefined &&
    options.namespace === undefined
  ) {
    // As kubectl: the context's namespace is the default, and an empty answer says which one it was.
    io.stdout(
      `No exceptions found in namespace ${namespace} (the context's namespace). Use -A for every namespace, or -n NAME.\n`,
    );
  } else {
    io.stdout(renderWaiverTable(rows));
  }
  return 0;
}

/** Asks one question on the terminal (stderr, so stdout stays the YAML). */
async function askOnTerminal(question: string): Promise<string> {
  const terminal = createInterface({ input: process.stdin, output: process.stderr }); // a real terminal only
  try {
    return await terminal.question(question);
  } finally {
    terminal.close();
  }
}

const exceptionIo = (): ExceptionIo => {
  const io = cliIo();
  return {
    stdout: io.stdout,
    stderr: io.stderr,
    now: new Date(),
    env: io.env,
    ask: io.stdinIsTTY ? askOnTerminal : undefined,
  };
};

/** Where the commands write, when "now" is, and how they exit: the process's, or a test's. */
export interface ExceptionCommandEnv {
  readonly io: () => ExceptionIo;
  readonly exit: (code: number) => void;
}

const PROCESS_ENV: ExceptionCommandEnv = {
  io: exceptionIo,
  exit: (code) => cliIo().exit(code),
};

/**
 * Every line these commands print passes here: requester-written fields (owner, reason, target,
 * selector values) never reach the terminal as control characters (line feeds kept).
 */
function scrubbed(io: ExceptionIo): ExceptionIo {
  return {
    ...io,
    stdout: (text) => io.stdout(escapeControlLines(text, '')),
    stderr: (text) => io.stderr(escapeControlLines(text, '')),
  };
}

export function registerException(program: Command, env: ExceptionCommandEnv = PROCESS_ENV): void {
  const io = (): ExceptionIo => scrubbed(env.io());
  const exception = program
    .command('exception')
    .description(
      'request, approve, renew and list GuardrailExceptions: owned, approved waivers that always expire',
    );
  exception
    .command('request')
    .description(
      'print a GuardrailException as YAML (or create it with --apply); it waives nothing until approved',
    )
    .addOption(
      configOption('GuardrailPolicy file the printed waiver is checked against (EX001, EX002)'),
    )
    .requiredOption(
      '-n, --namespace <name>',
      'namespace of the object to waive (Namespace waivers go to netguard-system)',
    )
    .requiredOption('--rule <ids>', 'rule ID(s) to waive, comma-separated: NP004 or NP004,NP005')
    .option(
      '--target <kind/name>',
      'what to waive: networkpolicy/NAME, deployment/NAME, namespace/NAME; or just KIND with --selector',
    )
    .option(
      '--selector <k=v,...>',
      'label selector for workloads and Pods (with --target KIND; default kind Deployment)',
    )
    .option(
      '--reason <text>',
      'why the guardrail cannot be met yet (asked for on a terminal when missing)',
    )
    .option(
      '--owner <who>',
      'who answers for the waiver (default: the namespace annotation netguard.dev/owner, else you)',
    )
    .requiredOption(
      '--expires <when>',
      'a duration from now (14d) or a date (2026-12-06) or an RFC 3339 timestamp',
    )
    .option('--ticket <id>', 'tracking ticket')
    .option('--name <name>', 'name of the GuardrailException (default: rules and target)')
    .option('--apply', 'create it in the cluster (pending until approved) instead of printing it')
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .action(async (raw: Record<string, unknown>) => {
      env.exit(await runExceptionRequest(parseOptions(requestOptionsSchema, raw), io()));
    });
  exception
    .command('approve <name>')
    .description(
      'approve a pending GuardrailException in your own name (members of the approver groups)',
    )
    .option('-n, --namespace <name>', "the waiver's namespace (default: the context's)")
    .option('-y, --yes', 'approve without asking (the summary still goes to stderr)')
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .action(async (name: string, raw: Record<string, unknown>) => {
      env.exit(await runExceptionApprove(name, parseOptions(approveOptions, raw), io()));
    });
  exception
    .command('renew <name>')
    .description(
      'file a new pending GuardrailException that continues NAME (spec.renews), under a free name',
    )
    .option('-n, --namespace <name>', "the waiver's namespace (default: the context's)")
    .requiredOption(
      '--expires <when>',
      'a duration from now (14d) or a date (2026-12-06) or an RFC 3339 timestamp',
    )
    .option('--reason <text>', 'a new reason (default: the old one)')
    .option('--owner <who>', 'a new owner (default: the old one)')
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .action(async (name: string, raw: Record<string, unknown>) => {
      env.exit(await runExceptionRenew(name, parseOptions(renewOptions, raw), io()));
    });
  exception
    .command('list')
    .description(
      'list exceptions with their state (active, expiring, expired, pending), from the file or the cluster',
    )
    .addOption(exceptionsOption())
    .addOption(configOption('GuardrailPolicy file (for exceptions.warnBefore)'))
    .option('-n, --namespace <name>', 'only this namespace')
    .option('-A, --all-namespaces', 'every namespace (the default for the file)')
    .option('--state <state>', 'only active, expiring, expired or pending')
    .addOption(outputOption(LIST_FORMATS, 'text, json or yaml'))
    .option(
      '--at <timestamp>',
      'states as of this instant instead of now, e.g. 2026-12-07T00:00:00Z',
    )
    .option('--cluster', 'read the cluster (current kubeconfig) instead of the file')
    .addOption(kubeconfigOption('read the cluster through this kubeconfig'))
    .option('--context <name>', 'kubeconfig context (implies --cluster)')
    .action(async (raw: Record<string, unknown>) => {
      env.exit(await runExceptionList(parseOptions(listOptions, raw), io()));
    });
}
