import { KubeApiError } from '../errors.ts';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { KubeObject } from '../vocabulary.ts';
import type { KubeRest } from './rest.ts';
import { sleep } from './sleep.ts';

export interface LeaderElectionOptions {
  readonly rest: KubeRest;
  readonly namespace: string;
  readonly name: string;
  /** This replica's name in `holderIdentity` (the pod name in a cluster). */
  readonly identity: string;
  readonly logger: Logger;
  readonly leaseDurationMs?: number;
  /** A leader that has not renewed for this long stops writing, before others may take over. */
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Injectable so tests control time and never sleep. */
  readonly now?: () => number;
  readonly delay?: (ms: number) => Promise<void>;
  readonly onStartedLeading?: () => void;
  /**
   * Asked before every write of the lease: false (the leader's watches are dead) and nothing is
   * written, so leadership lapses and `onUnfit` is told once (the process exits; the standby leads).
   */
  readonly fit?: () => boolean;
  readonly onUnfit?: () => void;
}

export interface LeaderElector {
  isLeader(): boolean;
  /** Stops competing; a leader hands the lease back so another replica takes over at once. */
  stop(): Promise<void>;
}

const leaseSchema = z.looseObject({
  metadata: z.looseObject({ resourceVersion: z.string().optional() }),
  spec: z
    .looseObject({
      holderIdentity: z.string().nullish(),
      leaseDurationSeconds: z.number().nullish(),
      acquireTime: z.string().nullish(),
      renewTime: z.string().nullish(),
      leaseTransitions: z.number().nullish(),
    })
    .optional(),
});
type Lease = z.infer<typeof leaseSchema>;

/** Kubernetes MicroTime: RFC 3339 with six fractional digits. */
const microTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '000Z');

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: another holder's
 * lease counts as expired only when its record has not changed for its whole duration on OUR clock
 * (clocks between replicas are never compared); every write is resourceVersion-checked, so two
 * replicas racing for a free lease cannot both win.
 */
export function startLeaderElection(options: LeaderElectionOptions): LeaderElector {
  const now = options.now ?? Date.now;
  const delay = options.delay ?? sleep;
  const leaseMs = options.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryMs = options.retryPeriodMs ?? 2_000;
  const path = `/apis/coordination.k8s.io/v1/namespaces/${options.namespace}/leases/${options.name}`;
  let observed: { spec: Lease['spec']; at: number } | undefined;
  let renewedAt: number | undefined;
  let lastLease: Lease | undefined;
  let stopped = false;
  let unfit = false;

  const leading = (): boolean => renewedAt !== undefined && now() - renewedAt < renewDeadlineMs;

  const spec = (transitions: number, acquireTime: string): KubeObject => ({
    holderIdentity: options.identity,
    leaseDurationSeconds: Math.ceil(leaseMs / 1000),
    acquireTime,
    renewTime: microTime(now()),
    leaseTransitions: transitions,
  });

  const observe = (lease: Lease): void => {
    if (observed === undefined || !isDeepStrictEqual(observed.spec, lease.spec))
      observed = { spec: lease.spec, at: now() };
  };

  const heldByOther = (lease: Lease): boolean => {
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder === '' || holder === options.identity) return false;
    const duration = (lease.spec?.leaseDurationSeconds ?? leaseMs / 1000) * 1000;
    return observed !== undefined && now() - observed.at < duration;
  };

  const write = async (lease: Lease | undefined): Promise<Lease> => {
    const metadata = { name: options.name, namespace: options.namespace };
    if (lease === undefined) {
      const body = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata,
        spec: spec(0, microTime(now())),
      };
      return leaseSchema.parse(
        await options.rest.create(
          `/apis/coordination.k8s.io/v1/namespaces/${options.namespace}/leases`,
          body,
        ),
      );
    }
    const mine = lease.spec?.holderIdentity === options.identity;
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (mine ? 0 : 1);
    const acquireTime = mine ? (lease.spec?.acquireTime ?? microTime(now())) : microTime(now());
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...metadata, resourceVersion: lease.metadata.resourceVersion },
      spec: spec(transitions, acquireTime),
    };
    return leaseSchema.parse(await options.rest.replace(path, body));
  };

  const read = async (): Promise<Lease | undefined> => {
    try {
      return leaseSchema.parse(await options.rest.get(path));
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return undefined;
      throw err;
    }
  };

  /** One round: read, and write only when the lease is ours or free. */
  const attempt = async (): Promise<void> => {
    const lease = await read();
    if (lease !== undefined) observe(lease);
    if (lease !== undefined && heldByOther(lease)) return;
    if (options.fit !== undefined && !options.fit()) {
      if (!unfit) {
        unfit = true;
        options.logger.error(
          { lease: `${options.namespace}/${options.name}`, identity: options.identity },
          'watches silent too long: no longer renewing the lease',
        );
        options.onUnfit?.();
      }
      return;
    }
    const wasLeading = leading();
    lastLease = await write(lease);
    observe(lastLease);
    renewedAt = now();
    if (!wasLeading) {
      options.logger.info(
        { lease: `${options.namespace}/${options.name}`, identity: options.identity },
        'became the leader',
      );
      options.onStartedLeading?.();
    }
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        await attempt();
      } catch (err) {
        // A 409 means someone else wrote first: the next round rereads. Anything else is logged and retried.
        if (!(err instanceof KubeApiError && err.code === 409))
          options.logger.warn({ err }, 'lease update failed; retrying');
      }
      if (stopped) break;
      await delay(retryMs);
    }
  };
  void loop();

  return {
    isLeader: () => !stopped && leading(),
    async stop() {
      const wasLeading = leading();
      stopped = true;
      if (!wasLeading || lastLease === undefined) return;
      renewedAt = undefined;
      const released = {
        ...lastLease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(now()),
      };
      const body = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: options.name,
          namespace: options.namespace,
          resourceVersion: lastLease.metadata.resourceVersion,
        },
        spec: released,
      };
      await options.rest
        .replace(path, body)
        .catch((err: unknown) => options.logger.warn({ err }, 'could not release the lease'));
    },
  };
}
