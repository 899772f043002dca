/**
 * Where waivers come from, and what that means for them. Each source carries its own trust and
 * renewal; the registry, the waiver step, the listing and the expiry Events read these fields and
 * never a source's name. The sources themselves: `file-source.ts` (the exceptions file) and
 * `sources.ts` (`CLUSTER_SOURCES`, the ones kept in a cluster: `cluster-source.ts`).
 */
import type { WaiverRef } from '../engine/types.ts';

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
