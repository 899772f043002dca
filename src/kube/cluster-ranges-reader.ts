/**
 * Reads the sources of `clusterCIDRs: auto` from a cluster: each collection of RANGE_SOURCES (a
 * kind the cluster does not serve, or netguard may not list, is a source that did not answer) and
 * kube-system's DaemonSets, whose names reveal a CNI that gives pods VPC addresses.
 */
import type { Logger } from 'pino';
import {
  clusterRangesFrom,
  describeClusterRanges,
  RANGE_SOURCES,
  type ClusterRanges,
} from '../cluster-ranges.ts';
import type { KubeObject } from '../vocabulary.ts';
import { KubeApiError } from '../errors.ts';
import { listAll, type KubeRest } from './rest.ts';
import { sleep } from './sleep.ts';

const DAEMON_SETS = '/apis/apps/v1/namespaces/kube-system/daemonsets';

/** A list that may not be served (404) or allowed (403): those answer nothing. */
async function listIfServed(rest: KubeRest, path: string): Promise<KubeObject[]> {
  try {
    return await listAll(rest, path, { limit: 500 });
  } catch (err) {
    if (err instanceof KubeApiError && (err.code === 404 || err.code === 403)) return [];
    throw err;
  }
}

/** Every source once; list items come without kind and apiVersion, so they are set here. */
export async function readClusterRanges(rest: KubeRest): Promise<ClusterRanges> {
  const objects: KubeObject[] = [];
  for (const source of RANGE_SOURCES) {
    const items = await listIfServed(rest, source.path);
    objects.push(
      ...items.map((item) => ({ ...item, apiVersion: source.apiVersion, kind: source.kind })),
    );
  }
  return clusterRangesFrom(objects, await listIfServed(rest, DAEMON_SETS));
}

export interface RangeDiscovery {
  /** The last reading (before the first: not known yet). */
  current(): ClusterRanges;
  stop(): void;
}

const NOT_YET: ClusterRanges = {
  ranges: [],
  sources: [],
  unknown: 'the cluster ranges have not been read yet; set clusterCIDRs',
};

/**
 * Reads the ranges at start and every `intervalMs` (nodes come and go, pools are added); logs the
 * sources that answered whenever that changes. A failed reading keeps the last good one.
 */
export function startRangeDiscovery(options: {
  readonly rest: KubeRest;
  readonly logger: Logger;
  readonly intervalMs?: number;
  readonly delay?: (ms: number) => Promise<void>;
}): RangeDiscovery {
  const delay = options.delay ?? sleep;
  let current = NOT_YET;
  let said = '';
  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        current = await readClusterRanges(options.rest);
        const line = describeClusterRanges(current);
        if (line !== said) options.logger.info({ clusterCIDRs: current.sources }, line);
        said = line;
      } catch (err) {
        options.logger.warn(
          { err },
          'could not read the cluster pod and service ranges; keeping the last reading',
        );
      }
      await delay(options.intervalMs ?? 5 * 60_000);
    }
  };
  void loop();
  return {
    current: () => current,
    stop: () => {
      stopped = true;
    },
  };
}
