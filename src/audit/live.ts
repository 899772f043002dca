import type { Policy } from '../config/policy.ts';
import { loadWorld, type WorldFiles } from '../world.ts';
import type { KubeRest } from '../kube/rest.ts';
import { detectCni } from './cni.ts';
import { collectCluster, type ClusterSnapshot } from './collect.ts';
import { readClusterRanges } from '../kube/cluster-ranges-reader.ts';
import { describeClusterRanges } from '../cluster-ranges.ts';
import { auditWithDecisions, type AuditReport, type Judged } from './scan.ts';

export interface LiveAuditOptions {
  readonly namespace?: string | undefined;
  readonly pageSize?: number;
  readonly onProgress?: (what: string, count: number) => void;
  /** After listing, before judging: how much there is to judge. */
  readonly onListed?: (objects: number, namespaces: number) => void;
  readonly now: Date;
}

export interface LiveAudit {
  readonly snapshot: ClusterSnapshot;
  readonly report: AuditReport;
  readonly judged: readonly Judged[];
  /** The policy it was judged with. */
  readonly policy: Policy;
}

/**
 * A cluster as audit and the background report scan see it: list, then judge with the policy and
 * every waiver (file and cluster, as at admission). Invalid waivers waive nothing and become notes.
 */
export async function auditLiveCluster(
  rest: KubeRest,
  files: WorldFiles,
  options: LiveAuditOptions,
): Promise<LiveAudit> {
  const snapshot = await collectCluster(rest, {
    namespace: options.namespace,
    ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  options.onListed?.(snapshot.objects.length, snapshot.namespaces.length);
  const notes = snapshot.unavailable.map(
    (kind) =>
      `${kind} is not served by this cluster (CRD not installed?): only ${files.exceptions} waivers were applied`,
  );
  const world = loadWorld(files, {
    waiverObjects: snapshot.exceptions,
    onInvalidWaiver: (object, problems) =>
      notes.push(
        `GuardrailException ${String(JSON.stringify(object['metadata'] ?? {}))} is invalid and waives nothing: ${problems.join('; ')}`,
      ),
  });
  const { policy, waivers } = world.context(options.now);
  const clusterRanges = await readClusterRanges(rest);
  if (policy.networkPolicies.clusterCIDRsAuto) notes.push(describeClusterRanges(clusterRanges));
  const { report, judged } = auditWithDecisions({
    namespaces: snapshot.namespaces,
    objects: snapshot.objects,
    policy,
    waivers,
    now: options.now,
    cni: detectCni(snapshot.daemonSets),
    clusterRanges,
    notes,
    namespace: options.namespace,
  });
  return { snapshot, report, judged, policy };
}
