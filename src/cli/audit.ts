import type { Command } from 'commander';
import { z } from 'zod';
import { collectCluster } from '../audit/collect.ts';
import { detectCni } from '../audit/cni.ts';
import { renderAuditJson, renderAuditText, renderFlowCutsText } from '../audit/render.ts';
import { auditCluster, type AuditReport } from '../audit/scan.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { kubeRest } from '../kube/rest.ts';
import { loadWorld } from '../world.ts';
import { adviseOnObjects, readFlowFiles } from './advise.ts';
import { configOption, contextOption, exceptionsOption, kubeconfigOption, parseOptions } from './options.ts';

const auditOptions = z.strictObject({
  config: z.string().min(1),
  exceptions: z.string().min(1),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'expected a namespace name' }).optional(),
  output: z.enum(['text', 'json']),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
  pageSize: z.coerce.number().int().min(1).max(5000),
  flows: z.array(z.string().min(1)).optional(),
});
export type AuditOptions = z.infer<typeof auditOptions>;

export interface AuditIo {
  readonly stdout: (text: string) => void;
  /** Progress lines, on a terminal only. */
  readonly progress: ((text: string) => void) | undefined;
  readonly now: Date;
}

/** `netguard audit`: list, judge with the webhook's engine and waivers (file and cluster, as at admission), report. */
export async function runAudit(options: AuditOptions, io: AuditIo): Promise<AuditReport> {
  const rest = kubeRest(loadKubeConfig(options));
  const snapshot = await collectCluster(rest, {
    namespace: options.namespace,
    pageSize: options.pageSize,
    onProgress: (what, count) => io.progress?.(`\rlisting ${what}: ${count}\u001b[K`),
  });
  io.progress?.('\r\u001b[K');
  const notes = snapshot.unavailable.map((kind) => `${kind} is not served by this cluster (CRD not installed?): only ${options.exceptions} waivers were applied`);
  const world = loadWorld(options, {
    waiverObjects: snapshot.exceptions,
    onInvalidWaiver: (object, problems) =>
      notes.push(`GuardrailException ${String(JSON.stringify(object['metadata'] ?? {}))} is invalid and waives nothing: ${problems.join('; ')}`),
  });
  const { policy, waivers } = world.context(io.now);
  const report = auditCluster({
    namespaces: snapshot.namespaces,
    objects: snapshot.objects,
    policy,
    waivers,
    now: io.now,
    cni: detectCni(snapshot.daemonSets),
    notes,
    namespace: options.namespace,
  });
  // --flows: what the enforce baseline would cut of the traffic actually seen, per namespace.
  const flows = options.flows === undefined ? undefined : readFlowFiles(options.flows);
  const cuts = flows === undefined ? undefined : adviseOnObjects([...snapshot.namespaces.map((ns) => ({ ...ns, kind: 'Namespace' })), ...snapshot.objects], flows, policy).namespaces;
  const withFlows = { ...report, observedFlows: cuts };
  if (options.output === 'json') io.stdout(renderAuditJson(cuts === undefined ? report : withFlows));
  else io.stdout(`${renderAuditText(report)}${cuts === undefined ? '' : `\n${renderFlowCutsText(cuts)}`}`);
  return report;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('scan a live cluster\'s existing objects and report what the webhook would deny, per namespace, rule and environment')
    .addOption(configOption())
    .addOption(exceptionsOption('GuardrailException file (cluster GuardrailExceptions are read too)'))
    .option('-n, --namespace <name>', 'audit only this namespace')
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--page-size <n>', 'items per list request (limit/continue)', '500')
    .option('--flows <file...>', 'observed flows (hubble observe -o json, or CSV): per namespace, how many enforce would cut')
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .action(async (raw: Record<string, unknown>) => {
      await runAudit(parseOptions(auditOptions, raw), {
        stdout: (text) => process.stdout.write(text),
        progress: process.stderr.isTTY === true ? (text) => process.stderr.write(text) : undefined,
        now: new Date(),
      });
    });
}
