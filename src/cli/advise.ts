import { UsageError } from '../errors.ts';
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { contains, parseCidr } from '../cidr.ts';
import { detectCni } from '../cni.ts';
import { fqdnApproved } from '../model/dialects/fqdn.ts';
import type { Policy } from '../config/policy.ts';
import { exceptionRequestLine } from '../engine/message.ts';
import type { Manifest } from '../manifests.ts';
import { arrayField, stringField } from '../object-access.ts';
import { advise, type Advice, type ProposalCheck } from '../reach/advise.ts';
import { renderAdviceJson, renderAdviceText, renderProposalsYaml } from '../reach/advise-render.ts';
import { emptyFlowSet, parseFlows, type FlowSet } from '../reach/flows.ts';
import { lineOnly } from '../source-position.ts';
import type { KubeObject } from '../vocabulary.ts';
import { loadWorld, type World } from '../world.ts';
import { judgeManifests } from './check.ts';
import { cliIo, readStdin } from './io.ts';
import {
  contextOption,
  exceptionsOption,
  kubeconfigOption,
  outputOption,
  parseOptions,
} from './options.ts';
import { graphOf, loadObjects } from './reach-input.ts';

const ADVISE_FORMATS = ['text', 'json', 'yaml'] as const;

const adviseOptions = z.strictObject({
  filename: z.array(z.string().min(1)).optional(),
  flows: z
    .array(z.string().min(1))
    .min(1, { message: 'name at least one flow file (hubble observe -o json, or CSV)' }),
  config: z.string().min(1),
  exceptions: z.string().min(1),
  output: z.enum(ADVISE_FORMATS),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});
export type AdviseOptions = z.infer<typeof adviseOptions>;

/** Commander's raw values checked; a bad flag is a UsageError naming it. */
export const parseAdviseOptions = (raw: unknown): AdviseOptions => parseOptions(adviseOptions, raw);

/** A flow file may be large, never unbounded: Hubble exports beyond this are split by time first. */
const MAX_FLOW_FILE_BYTES = 256 * 1024 * 1024;

/** Reads Hubble JSON or CSV flow files; a file that cannot be read is a usage error naming it. */
export function readFlowFiles(paths: readonly string[]): FlowSet {
  const set = emptyFlowSet();
  for (const path of paths) {
    let text: string;
    try {
      if (statSync(path).size > MAX_FLOW_FILE_BYTES)
        throw new UsageError(`--flows: ${path} is larger than 256 MiB; split it`);
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(
        `--flows: cannot read ${path}: ${err instanceof Error && 'code' in err ? String(err.code) : String(err)}`,
      );
    }
    parseFlows(path, text, set);
  }
  return set;
}

/** Judges flows against the objects today and as enforced; used by `advise` and by `audit --flows`. */
export function adviseOnObjects(
  objects: readonly KubeObject[],
  flows: FlowSet,
  policy: Policy,
): Advice {
  // Where Cilium runs, destinations the capture names by DNS are proposed as toFQDNs.
  const fqdn = detectCni(objects.filter((o) => o['kind'] === 'DaemonSet')).fqdnEgress;
  return advise(flows, graphOf(objects), graphOf(objects, { asEnforced: policy }), policy, {
    fqdn,
  });
}

/** Egress ipBlocks of a proposal that approvedEgressCIDRs does not cover: each needs an entry there. */
function unapprovedCidrs(proposal: KubeObject, policy: Policy): string[] {
  const cidrs = arrayField(proposal, 'spec', 'egress')
    .flatMap((rule) => arrayField(rule, 'to'))
    .map((peer) => stringField(peer, 'ipBlock', 'cidr'))
    .filter((cidr) => cidr !== '');
  return cidrs.filter((cidr) => {
    const range = parseCidr(cidr);
    return (
      range === undefined ||
      !policy.networkPolicies.approvedEgressRanges.some((approved) =>
        contains(approved.range, range),
      )
    );
  });
}

/** toFQDNs names of a proposal that approvedEgressFQDNs does not cover: each needs an entry there. */
function unapprovedNames(proposal: KubeObject, policy: Policy): string[] {
  return arrayField(proposal, 'spec', 'egress')
    .flatMap((rule) => arrayField(rule, 'toFQDNs'))
    .map((entry) => stringField(entry, 'matchName'))
    .filter(
      (name) => name !== '' && !fqdnApproved(name, policy.networkPolicies.approvedEgressFQDNs),
    );
}

/**
 * Each proposal judged by netguard's own rules in its namespace's environment, as `check` would:
 * the rules it meets, and for each deny the approval it needs (an approvedEgressCIDRs entry for
 * NP004, else the exception request command).
 */
export function checkProposals(
  advice: Advice,
  objects: readonly KubeObject[],
  world: World,
  now: Date,
): ProposalCheck[] {
  const policy = world.policy();
  const manifest = (object: KubeObject, file: string, index: number): Manifest => ({
    file,
    document: index + 1,
    item: undefined,
    object,
    source: lineOnly(1),
  });
  const input = objects.map((o, i) => manifest(o, 'input', i));
  const proposed = advice.proposals.map((o, i) => manifest(o, 'proposed', i));
  const results = judgeManifests([...input, ...proposed], {
    world,
    environment: undefined,
    namespace: 'default',
    now,
  }).slice(input.length);
  return results.map(({ decision }, index): ProposalCheck => {
    const environment = policy.environments.find((env) => env.name === decision.environment);
    const denied = decision.findings.filter((f) => f.level === 'deny');
    const approvals: string[] = [];
    if (denied.some((f) => f.rule === 'NP004')) {
      for (const cidr of unapprovedCidrs(advice.proposals[index] ?? {}, policy))
        approvals.push(
          `add ${cidr} to spec.networkPolicies.approvedEgressCIDRs (a reviewed change to the GuardrailPolicy)`,
        );
      for (const name of unapprovedNames(advice.proposals[index] ?? {}, policy))
        approvals.push(
          `add ${name} to spec.networkPolicies.approvedEgressFQDNs (a reviewed change to the GuardrailPolicy)`,
        );
    }
    const others = denied.filter((f) => f.rule !== 'NP004');
    const request =
      environment === undefined
        ? undefined
        : exceptionRequestLine({ ...decision, findings: others }, environment);
    if (request !== undefined) approvals.push(request);
    return {
      proposal: `${decision.namespace}/${decision.name}`,
      environment: decision.environment,
      mode: decision.mode,
      allowed: decision.allowed,
      findings: decision.findings.map((f) => ({
        rule: f.rule,
        level: f.level,
        path: f.path,
        message: f.message,
      })),
      approvals,
    };
  });
}

/** Why a flow file gave no flows: a usage error when nothing in it was readable traffic. */
function noFlows(flows: FlowSet): UsageError | undefined {
  if (flows.flows.length > 0) return undefined;
  const total = Object.values(flows.skippedByReason).reduce((a, b) => a + b, 0);
  if (total === 0) return new UsageError('--flows: no flows found (the files are empty)');
  if (flows.problems === total)
    return new UsageError(`--flows: no flows found (${flows.skipped.slice(0, 3).join('; ')})`);
  return undefined;
}

/** `netguard advise --flows FILE...`: exit 0 with a report (also when every record was rightly skipped); 2 on bad input. */
export async function runAdvise(
  options: AdviseOptions,
  io: { stdout: (text: string) => void; stdin: () => string; now?: Date },
): Promise<Advice> {
  const world = loadWorld({ config: options.config, exceptions: options.exceptions });
  const policy = world.policy();
  const flows = readFlowFiles(options.flows);
  const unusable = noFlows(flows);
  if (unusable !== undefined) throw unusable;
  const objects = await loadObjects(options, io.stdin);
  const judged = adviseOnObjects(objects, flows, policy);
  const advice: Advice = {
    ...judged,
    checks: checkProposals(judged, objects, world, io.now ?? new Date()),
  };
  const render = { text: renderAdviceText, json: renderAdviceJson, yaml: renderProposalsYaml }[
    options.output
  ];
  io.stdout(render(advice));
  return advice;
}

export function registerAdvise(program: Command): void {
  program
    .command('advise')
    .description(
      'from observed flows: what today allows, what enforce would cut, and least-privilege NetworkPolicies that keep them',
    )
    .option(
      '-f, --filename <path...>',
      'manifests (files, directories, - for stdin); default: the cluster',
    )
    .option(
      '--flows <file...>',
      'observed flows: hubble observe -o json output, or CSV src_namespace,src_workload,dst_namespace,dst_workload,port,protocol',
    )
    .option('--config <path>', 'GuardrailPolicy file', 'policies/guardrails.yaml')
    .addOption(
      exceptionsOption('GuardrailException file (waivers count when proposals are checked)'),
    )
    .addOption(outputOption(ADVISE_FORMATS, 'text, json, or yaml (only the proposed policies)'))
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(adviseOptions, { ...raw, flows: raw['flows'] ?? [] });
      const stdinText = options.filename?.includes('-') === true ? await readStdin() : '';
      await runAdvise(options, {
        stdout: cliIo().stdout,
        stdin: () => stdinText,
      });
    });
}
