import type { Command } from 'commander';
import { z } from 'zod';
import { renderAuditJson, renderAuditText, renderFlowCutsText } from '../audit/render.ts';
import { auditLiveCluster, oneShotAuditWorld } from '../audit/live.ts';
import type { AuditReport } from '../audit/scan.ts';
import { stringify } from 'yaml';
import { policyReports } from '../reports/policy-report.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { kubeRest } from '../kube/rest.ts';
import { adviseOnObjects, readFlowFiles } from './advise.ts';
import {
  configOption,
  contextOption,
  exceptionsOption,
  kubeconfigOption,
  outputOption,
  parseOptions,
} from './options.ts';
import { cliIo } from './io.ts';

const AUDIT_FORMATS = ['text', 'json', 'yaml', 'policyreport'] as const;

const auditOptions = z.strictObject({
  config: z.string().min(1),
  exceptions: z.string().min(1),
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { message: 'expected a namespace name' })
    .optional(),
  output: z.enum(AUDIT_FORMATS),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
  pageSize: z.coerce.number().int().min(1).max(5000),
  flows: z.array(z.string().min(1)).optional(),
});
export type AuditOptions = z.infer<typeof auditOptions>;

export interface AuditIo {
  readonly stdout: (text: string) => void;
  /** Progress on stderr: a line rewritten in place on a terminal, one line per page otherwise. */
  readonly progress: ((text: string) => void) | undefined;
  /** Whether progress may rewrite its line (a terminal). */
  readonly tty?: boolean;
  readonly now: Date;
}

/** `-o policyreport`: a YAML stream for `kubectl apply -f -`, or for Policy Reporter to read. */
function renderPolicyReports(reports: readonly object[]): string {
  return reports.map((report) => stringify(report, { lineWidth: 0 })).join('---\n');
}

/** `netguard audit`: list, judge with the webhook's engine and waivers (file and cluster, as at admission), report. */
export async function runAudit(options: AuditOptions, io: AuditIo): Promise<AuditReport> {
  const rest = kubeRest(loadKubeConfig(options));
  const source = oneShotAuditWorld(rest, options);
  const { namespaces, objects, report, judged, policy } = await auditLiveCluster(source, {
    namespace: options.namespace,
    pageSize: options.pageSize,
    onProgress: (what, count) =>
      io.progress?.(
        io.tty === true
          ? `\rlisting ${what}: ${count}\u001b[K`
          : `netguard: listing ${what}: ${count}\n`,
      ),
    now: io.now,
    keepObjects: options.flows !== undefined,
    onJudged: (count, namespaceCount) => {
      io.progress?.(io.tty === true ? '\r\u001b[K' : '');
      io.progress?.(`netguard: judged ${count} objects in ${namespaceCount} namespaces\n`);
    },
  });
  // --flows: what the enforce baseline would cut of the traffic actually seen, per namespace.
  const flows = options.flows === undefined ? undefined : readFlowFiles(options.flows);
  const cuts =
    flows === undefined
      ? undefined
      : adviseOnObjects(
          [...namespaces.map((ns) => ({ ...ns, kind: 'Namespace' })), ...objects],
          flows,
          policy,
        ).namespaces;
  const shown = cuts === undefined ? report : { ...report, observedFlows: cuts };
  const render: Record<AuditOptions['output'], () => string> = {
    text: () =>
      `${renderAuditText(report)}${cuts === undefined ? '' : `\n${renderFlowCutsText(cuts)}`}`,
    json: () => renderAuditJson(shown),
    yaml: () => stringify(shown, { lineWidth: 0 }),
    policyreport: () =>
      renderPolicyReports(
        policyReports({
          judged,
          namespaces: report.namespaces,
          namespaceObjects: namespaces,
          now: io.now,
        }),
      ),
  };
  io.stdout(render[options.output]());
  return report;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description(
      "scan a live cluster's existing objects and report what the webhook would deny, per namespace, rule and environment",
    )
    .addOption(configOption())
    .addOption(
      exceptionsOption('GuardrailException file (cluster GuardrailExceptions are read too)'),
    )
    .option('-n, --namespace <name>', 'audit only this namespace')
    .addOption(
      outputOption(
        AUDIT_FORMATS,
        `${AUDIT_FORMATS.join(', ')} (wgpolicyk8s.io/v1alpha2 PolicyReports, a YAML stream)`,
      ),
    )
    .option(
      '--page-size <n>',
      'items per list request (limit/continue); each page is judged before the next',
      '250',
    )
    .option(
      '--flows <file...>',
      'observed flows (hubble observe -o json, or CSV): per namespace, how many enforce would cut',
    )
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .action(async (raw: Record<string, unknown>) => {
      await runAudit(parseOptions(auditOptions, raw), {
        stdout: cliIo().stdout,
        progress: cliIo().stderr,
        tty: cliIo().stderrIsTTY,
        now: new Date(),
      });
    });
}
