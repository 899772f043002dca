import { RULES_BY_ID } from '../rules/registry.ts';
import { UsageError } from '../errors.ts';
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadPolicyFile } from '../config/load.ts';
import type { Policy } from '../config/policy.ts';
import type { KubeObject } from '../vocabulary.ts';
import { advise, type Advice } from '../reach/advise.ts';
import { renderAdviceJson, renderAdviceText, renderProposalsYaml } from '../reach/advise-render.ts';
import { parseFlows, type FlowSet } from '../reach/flows.ts';
import { contextOption, kubeconfigOption, outputOption, parseOptions } from './options.ts';

const ADVISE_FORMATS = ['text', 'json', 'yaml'] as const;
import { graphOf, loadObjects, readStdin } from './reach-input.ts';

const adviseOptions = z.strictObject({
  filename: z.array(z.string().min(1)).optional(),
  flows: z
    .array(z.string().min(1))
    .min(1, { message: 'name at least one flow file (hubble observe -o json, or CSV)' }),
  config: z.string().min(1),
  output: z.enum(ADVISE_FORMATS),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});
export type AdviseOptions = z.infer<typeof adviseOptions>;

/** A flow file may be large, never unbounded: Hubble exports beyond this are split by time first. */
const MAX_FLOW_FILE_BYTES = 256 * 1024 * 1024;

/** Reads Hubble JSON or CSV flow files; a file that cannot be read is a usage error naming it. */
export function readFlowFiles(paths: readonly string[]): FlowSet {
  const set: FlowSet = { flows: [], skipped: [] };
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
  return advise(flows, graphOf(objects), graphOf(objects, { asEnforced: policy }), policy);
}

/** `netguard advise --flows FILE...`: exit 0 with a report; 2 on bad input. */
export async function runAdvise(
  options: AdviseOptions,
  io: { stdout: (text: string) => void; stdin: () => string },
): Promise<Advice> {
  const policy = loadPolicyFile(options.config, RULES_BY_ID);
  const flows = readFlowFiles(options.flows);
  if (flows.flows.length === 0)
    throw new UsageError(
      `--flows: no flows found (${flows.skipped.slice(0, 3).join('; ') || 'the files are empty'})`,
    );
  const advice = adviseOnObjects(await loadObjects(options, io.stdin), flows, policy);
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
    .addOption(outputOption(ADVISE_FORMATS, 'text, json, or yaml (only the proposed policies)'))
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(adviseOptions, { ...raw, flows: raw['flows'] ?? [] });
      const stdinText = options.filename?.includes('-') === true ? await readStdin() : '';
      await runAdvise(options, {
        stdout: (text) => process.stdout.write(text),
        stdin: () => stdinText,
      });
    });
}
