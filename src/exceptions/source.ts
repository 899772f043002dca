/**
 * Where waivers come from, and what that means for them. Each source carries its own trust and
 * renewal; the registry, the waiver step, the listing and the expiry Events read these fields and
 * never a source's name. The sources themselves: `file-source.ts` (the exceptions file) and
 * `sources.ts` (`CLUSTER_SOURCES`, the ones kept in a cluster).
 */
import type { WaiverRef } from '../engine/types.ts';
import type { KubeObject } from '../vocabulary.ts';
import type { WaivableRules } from './scope-checks.ts';
import type { Waiver } from './waiver.ts';

export interface ExceptionSource {
  /** How `exception list` names it (`source` in its JSON and YAML). */
  readonly name: string;
  /**
   * Trusted as written: kept where the platform reviews every change (a file in Git), so its
   * waivers need no approver. Otherwise a waiver waives only once someone other than its requester
   * approved it (EX004 at admission; checked again here for objects written while the webhook was down).
   */
  readonly trusted: boolean;
  /** What to do, past a waiver's expiry, to have it renewed; `maxDuration` is the environment's limit. */
  renewal(ref: WaiverRef, maxDuration: string): string;
  /** The API object each waiver is, when it is one (expiry Events name it as involved). */
  readonly apiObject: { readonly apiVersion: string; readonly kind: string } | undefined;
}

/**
 * A source kept in a cluster: the collection that holds it and how its objects become waivers.
 * `serve` follows each with a cache (kube/exception-source.ts), one-shot commands list it once;
 * both iterate `CLUSTER_SOURCES` (sources.ts).
 */
export interface ClusterExceptionSource extends ExceptionSource {
  /** Its cache in readiness and logs (`guardrailexceptions cache not synced`). */
  readonly what: string;
  /** The collection path: in one namespace, or in every namespace. */
  path(namespace?: string): string;
  /**
   * Its objects as waivers, each through `waiverProblems` (EX002/EX003) like every source's; an
   * object that does not parse is reported and skipped, never fatal.
   */
  waivers(
    objects: readonly KubeObject[],
    onInvalid: (object: KubeObject, problems: string[]) => void,
    guardrails: WaivableRules,
  ): Waiver[];
}
