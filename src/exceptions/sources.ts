/**
 * The exception sources kept in a cluster, in the order the registry reads them (after the file,
 * `FILE_SOURCE`). `serve`'s live world follows each with a cache and one-shot commands list each
 * once (live-world.ts); a new source is one module beside `object-source.ts` and one line here.
 */
import { GUARDRAIL_EXCEPTION_SOURCE } from './object-source.ts';
import type { ClusterExceptionSource } from './cluster-source.ts';

export const CLUSTER_SOURCES: readonly ClusterExceptionSource[] = [GUARDRAIL_EXCEPTION_SOURCE];
