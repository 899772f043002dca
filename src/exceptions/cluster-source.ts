import type { KubeObject } from '../vocabulary.ts';
import type { WaivableRules } from './scope-checks.ts';
import type { ExceptionSource } from './source.ts';
import type { Waiver } from './waiver.ts';

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
