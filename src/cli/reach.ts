import { UsageError } from '../errors.ts';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadWorld } from '../world.ts';
import {
  reachReport,
  renderReachDot,
  renderReachJson,
  renderReachMermaid,
  renderReachText,
  renderVerdictJson,
  renderVerdictText,
} from '../reach/render.ts';
import { answerForHostNetwork, hostNetworkPolicy } from '../reach/host-network.ts';
import { cliIo, readStdin } from './io.ts';
import { contextOption, kubeconfigOption, outputOption, parseOptions, port } from './options.ts';
import { graphOf, loadObjects, resolveEndpoint } from './reach-input.ts';

const REACH_FORMATS = ['text', 'json', 'dot', 'mermaid'] as const;

const namespaceName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'expected a namespace name' });

const reachOptions = z.strictObject({
  filename: z.array(z.string().min(1)).optional(),
  from: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  port: port.refine((n) => n >= 1, { message: 'expected a port from 1 to 65535' }).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']),
  asEnforced: z.boolean(),
  namespace: namespaceName.optional(),
  output: z.enum(REACH_FORMATS),
  config: z.string().min(1),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
});
export type ReachOptions = z.infer<typeof reachOptions>;

/** Commander's raw values checked; a bad flag is a UsageError naming it. */
export const parseReachOptions = (raw: unknown): ReachOptions => parseOptions(reachOptions, raw);

export interface ReachIo {
  readonly stdout: (text: string) => void;
  readonly stdin: () => string;
}

/** `netguard reach`: one question (--from, --to, --port) or the whole picture. Exit 0 either way; 2 on bad input. */
export async function runReach(options: ReachOptions, io: ReachIo): Promise<number> {
  const question = options.from !== undefined || options.to !== undefined;
  if (
    question &&
    (options.from === undefined || options.to === undefined || options.port === undefined)
  ) {
    throw new UsageError(
      '--from, --to and --port go together (one question: can FROM reach TO on PORT?)',
    );
  }
  if (question && (options.output === 'dot' || options.output === 'mermaid'))
    throw new UsageError('--output: one question answers in text or json');
  // The offline world's policy (reach reads no waivers: no exceptions file is a source).
  const policy = options.asEnforced ? loadWorld({ config: options.config }).policy() : undefined;
  const objects = await loadObjects(options, io.stdin);
  const graph = graphOf(objects, { asEnforced: policy });
  if (options.from !== undefined && options.to !== undefined && options.port !== undefined) {
    const src = resolveEndpoint(graph, options.from, '--from');
    const dst = resolveEndpoint(graph, options.to, '--to');
    // The same pod IP at both ends is one pod reaching itself, whatever its workload.
    const samePod =
      src === dst &&
      src.kind === 'workload' &&
      options.from === options.to &&
      !options.from.includes('/');
    const decided = samePod
      ? graph.decide(src, src, options.port, options.protocol, { samePod: true })
      : graph.decide(src, dst, options.port, options.protocol);
    const { verdict, hostNetwork } = answerForHostNetwork(
      decided,
      src,
      dst,
      hostNetworkPolicy(objects),
    );
    // Policies reach does not model that select either end: the answer may be wrong, and says so.
    const notModelled = graph.unmodelledNotes([src, dst]);
    io.stdout(
      options.output === 'json'
        ? renderVerdictJson(verdict, hostNetwork, notModelled)
        : renderVerdictText(
            { from: src, to: dst, port: options.port, protocol: options.protocol },
            verdict,
            hostNetwork,
            notModelled,
          ),
    );
    return 0;
  }
  if (options.namespace !== undefined && graph.namespace(options.namespace) === undefined) {
    throw new UsageError(`--namespace: ${options.namespace} is not in the input`);
  }
  const report = reachReport(graph, {
    asEnforced: options.asEnforced,
    namespace: options.namespace,
  });
  const render = {
    text: renderReachText,
    json: renderReachJson,
    dot: renderReachDot,
    mermaid: renderReachMermaid,
  }[options.output];
  io.stdout(render(report));
  return 0;
}

export function registerReach(program: Command): void {
  program
    .command('reach')
    .description(
      "which workloads can reach which, per port and protocol, under today's NetworkPolicies, Cilium policies and ClusterNetworkPolicies (or --as-enforced)",
    )
    .option(
      '-f, --filename <path...>',
      'manifests (files, directories, - for stdin); default: the cluster',
    )
    .option('--from <ns/workload>', 'one question: the client workload (or an IP address)')
    .option('--to <ns/workload>', 'one question: the server workload (or an IP address)')
    .option('--port <n>', 'one question: the destination port')
    .option('--protocol <p>', 'TCP, UDP or SCTP', 'TCP')
    .option('--as-enforced', 'add the baseline every judged namespace would get in enforce', false)
    .option('-n, --namespace <name>', 'only connections leaving or entering this namespace')
    .addOption(outputOption(REACH_FORMATS, 'text, json, dot or mermaid'))
    .option(
      '--config <path>',
      'GuardrailPolicy file (environments, DNS, excluded namespaces)',
      'policies/guardrails.yaml',
    )
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .action(async (raw: Record<string, unknown>) => {
      const options = parseReachOptions(raw);
      const stdinText = options.filename?.includes('-') === true ? await readStdin() : '';
      cliIo().exit(
        await runReach(options, {
          stdout: cliIo().stdout,
          stdin: () => stdinText,
        }),
      );
    });
}
