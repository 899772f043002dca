import type { Policy } from '../config/policy.ts';
import { loadWorld, type ListedSource, type World, type WorldFiles } from '../world.ts';
import type { KubeRest } from '../kube/rest.ts';
import type { LiveWorld } from '../live-world.ts';
import type { KubeObject } from '../vocabulary.ts';
import { detectCni } from '../cni.ts';
import { collectAuditListing, forEachPage, PAGED } from './collect.ts';
import { startAudit, type AuditReport, type Judged } from './scan.ts';
import { readClusterRanges } from '../kube/cluster-ranges-reader.ts';
import { describeClusterRanges } from '../cluster-ranges.ts';

export interface LiveAuditOptions {
  readonly namespace?: string | undefined;
  readonly pageSize?: number;
  readonly onProgress?: (what: string, count: number) => void;
  /** After the last page: how much was judged. */
  readonly onJudged?: (objects: number, namespaces: number) => void;
  /** Keep every listed workload and policy too (`audit --flows` reads them); otherwise none is kept. */
  readonly keepObjects?: boolean;
  readonly now: Date;
}

export interface LiveAudit {
  readonly namespaces: readonly KubeObject[];
  readonly report: AuditReport;
  readonly judged: readonly Judged[];
  /** The workloads and NetworkPolicies listed, only with `keepObjects`. */
  readonly objects: readonly KubeObject[];
  /** The policy it was judged with. */
  readonly policy: Policy;
}

/** What an audit reads: the cluster's paged listing, and the world it judges with. */
export interface AuditWorld {
  readonly rest: KubeRest;
  /** Where waivers come from besides the listing, as the notes name it. */
  readonly waiverFiles: string;
  /**
   * The world to judge with, given the GuardrailExceptions the listing found: a one-shot command
   * loads them beside its files; a running controller's world already caches them.
   */
  judgeWith(
    listed: readonly ListedSource[],
    onInvalidWaiver: (object: KubeObject, problems: string[]) => void,
  ): World;
}

/** `netguard audit`'s world: the files as they are now, plus the waivers the listing found. */
export const oneShotAuditWorld = (rest: KubeRest, files: WorldFiles): AuditWorld => ({
  rest,
  waiverFiles: files.exceptions,
  judgeWith: (listed, onInvalidWaiver) => loadWorld(files, { listed, onInvalidWaiver }),
});

/**
 * A running controller's world: its one client, and the policy and waivers it already follows
 * (files watched, GuardrailExceptions cached), so the scan judges exactly as admission does.
 */
export function runningAuditWorld(world: LiveWorld, files: WorldFiles): AuditWorld {
  const { rest } = world;
  if (rest === undefined) throw new Error('PolicyReports are scanned in a cluster only');
  return { rest, waiverFiles: files.exceptions, judgeWith: () => world };
}

/**
 * A cluster as audit and the background report scan see it: Namespaces, NetworkPolicies and
 * waivers first, then the workloads page by page (owners before what they own), each page judged
 * with the policy and every waiver (file and cluster, as at admission) before the next is
 * fetched. Only decisions and references stay, so memory does not grow with workload sizes.
 * Invalid waivers waive nothing and become notes.
 */
export async function auditLiveCluster(
  source: AuditWorld,
  options: LiveAuditOptions,
): Promise<LiveAudit> {
  const { rest } = source;
  const collect = {
    namespace: options.namespace,
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  };
  const listing = await collectAuditListing(rest, collect);
  const notes = listing.unavailable.map(
    (kind) =>
      `${kind} is not served by this cluster (CRD not installed?): only ${source.waiverFiles} waivers were applied`,
  );
  const world = source.judgeWith(listing.exceptions, (object, problems) =>
    notes.push(
      `GuardrailException ${String(JSON.stringify(object['metadata'] ?? {}))} is invalid and waives nothing: ${problems.join('; ')}`,
    ),
  );
  const { policy, waivers } = world.context(options.now);
  const clusterRanges = await readClusterRanges(rest);
  if (policy.networkPolicies.clusterCIDRsAuto) notes.push(describeClusterRanges(clusterRanges));
  const auditor = startAudit({
    namespaces: listing.namespaces,
    policies: listing.policies,
    policy,
    waivers,
    now: options.now,
    cni: detectCni(listing.cniDaemonSets),
    clusterRanges,
    notes,
    namespace: options.namespace,
  });
  const kept: KubeObject[] = [];
  for (const collection of PAGED)
    await forEachPage(rest, collection, options.namespace, collect, (page) => {
      auditor.know(page);
      auditor.judge(page);
      if (options.keepObjects === true) kept.push(...page);
    });
  auditor.judge(listing.policies);
  if (options.keepObjects === true) kept.push(...listing.policies);
  const { report, judged } = auditor.finish();
  options.onJudged?.(report.summary.objects, report.summary.namespaces);
  return { namespaces: listing.namespaces, report, judged, objects: kept, policy };
}
