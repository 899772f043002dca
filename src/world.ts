/**
 * The offline world, wired in one place for every one-shot command: the policy and the exception
 * registry over a list of sources (the file, then each cluster source's objects already listed, as
 * live-world.ts's `listClusterSources` lists them). It never loads the cluster client; `serve`'s
 * live world (caches) is live-world.ts.
 */
import { GUARDRAILS_BY_ID } from './rules/guardrails.ts';
import { RULES_BY_ID } from './rules/registry.ts';
import { loadPolicyFile } from './config/load.ts';
import type { Policy } from './config/policy.ts';
import { EMPTY_CLUSTER } from './engine/cluster-view.ts';
import type { ClusterView, EvaluationContext } from './engine/types.ts';
import { RULE_SET } from './rules/registry.ts';
import { existsSync } from 'node:fs';
import { loadExceptionFile } from './exceptions/file-source.ts';
import type { ClusterExceptionSource } from './exceptions/cluster-source.ts';
import { createRegistry, waiverSet, type ExceptionRegistry } from './exceptions/registry.ts';
import type { KubeObject } from './vocabulary.ts';

/** The two files every command reads (flags `--config` and `--exceptions`). */
export interface WorldFiles {
  readonly config: string;
  readonly exceptions: string;
}

/** The offline world's files: without `exceptions`, the file is no source (`reach`, `exception list --cluster`). */
export interface OfflineFiles {
  readonly config: string;
  readonly exceptions?: string | undefined;
}

/** What a command judges with: the policy, the waivers and (in a cluster) the caches. */
export interface World {
  policy(): Policy;
  readonly registry: ExceptionRegistry;
  /** The engine's context as of `now`, over the given cluster view (default: the caches, or none). */
  context(now: Date, cluster?: ClusterView): EvaluationContext;
}

export function worldOf(
  policy: () => Policy,
  registry: ExceptionRegistry,
  cluster: ClusterView,
): World {
  return {
    policy,
    registry,
    context: (now, view = cluster) => ({
      policy: policy(),
      rules: RULE_SET,
      cluster: view,
      waivers: registry.view(policy().exceptions.warnBeforeMs),
      now,
    }),
  };
}

/** One cluster source's objects, listed once by a one-shot command. */
export interface ListedSource {
  readonly source: ClusterExceptionSource;
  readonly objects: readonly KubeObject[];
}

/** Cluster sources already listed; an object that is no valid waiver is reported, never fatal. */
export interface ClusterListing {
  readonly listed: readonly ListedSource[];
  readonly onInvalidWaiver: (object: KubeObject, problems: string[]) => void;
}

/**
 * The waiver registry of one-shot commands, over its sources in order: the exceptions file (when
 * given), then each listed cluster source. `exception list` reads it alone.
 */
export function loadWaivers(
  files: Pick<OfflineFiles, 'exceptions'>,
  cluster?: ClusterListing,
): ExceptionRegistry {
  const sets =
    files.exceptions === undefined ? [] : [loadExceptionFile(files.exceptions, GUARDRAILS_BY_ID)];
  if (cluster !== undefined) {
    for (const { source, objects } of cluster.listed)
      sets.push(waiverSet(source.waivers(objects, cluster.onInvalidWaiver, GUARDRAILS_BY_ID)));
  }
  return createRegistry(sets.map((set) => () => set));
}

/**
 * A snapshot for one-shot commands (`check`, `audit`, `advise`, `reach --as-enforced`): the files
 * as they are now, plus cluster sources already listed (invalid objects reported, never fatal).
 */
export function loadWorld(files: OfflineFiles, cluster?: ClusterListing): World {
  const policy = loadPolicyFile(files.config, RULES_BY_ID);
  return worldOf(() => policy, loadWaivers(files, cluster), EMPTY_CLUSTER);
}

/**
 * The policy when its file exists: `exception list` lists waivers without one (with the default
 * warnBefore, and no environment's limit to hold them to).
 */
export function loadPolicyIfPresent(config: string): Policy | undefined {
  return existsSync(config) ? loadPolicyFile(config, RULES_BY_ID) : undefined;
}
