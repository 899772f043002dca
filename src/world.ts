/**
 * The offline world, wired in one place for every one-shot command: the policy and the exception
 * registry (the file, plus GuardrailExceptions already listed from a cluster, through the same
 * code). It never loads the cluster client; `serve`'s live world (caches) is live-world.ts.
 */
import { GUARDRAILS_BY_ID } from './rules/guardrails.ts';
import { RULES_BY_ID } from './rules/registry.ts';
import { loadPolicyFile } from './config/load.ts';
import type { Policy } from './config/policy.ts';
import { EMPTY_CLUSTER } from './engine/cluster-view.ts';
import type { ClusterView, EvaluationContext } from './engine/types.ts';
import { RULE_SET } from './rules/registry.ts';
import { waiversFromObjects } from './exceptions/object-source.ts';
import { loadExceptionFile } from './exceptions/file-source.ts';
import {
  createRegistry,
  waiverSet,
  type ExceptionRegistry,
  type WaiverSource,
} from './exceptions/registry.ts';
import type { KubeObject } from './vocabulary.ts';

/** The two files every command reads (flags `--config` and `--exceptions`). */
export interface WorldFiles {
  readonly config: string;
  readonly exceptions: string;
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

/**
 * A snapshot for one-shot commands (`check`, `audit`, `exception list`): the files as they are
 * now, plus GuardrailExceptions already listed from a cluster (invalid ones reported, never fatal).
 */
export function loadWorld(
  files: WorldFiles,
  cluster?: {
    readonly waiverObjects: readonly KubeObject[];
    readonly onInvalidWaiver: (object: KubeObject, problems: string[]) => void;
  },
): World {
  const policy = loadPolicyFile(files.config, RULES_BY_ID);
  const fileSet = loadExceptionFile(files.exceptions, GUARDRAILS_BY_ID);
  const sources: WaiverSource[] = [() => fileSet];
  if (cluster !== undefined) {
    const clusterSet = waiverSet(
      waiversFromObjects(cluster.waiverObjects, cluster.onInvalidWaiver, GUARDRAILS_BY_ID),
    );
    sources.push(() => clusterSet);
  }
  return worldOf(() => policy, createRegistry(sources), EMPTY_CLUSTER);
}
