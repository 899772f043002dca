import { KubeApiError } from '../errors.ts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Policy } from '../config/policy.ts';
import { field } from '../object-access.ts';
import {
  BASELINE_POLICY_NAMES,
  type KubeObject,
  type Mode,
  type NamespaceInfo,
} from '../vocabulary.ts';
import { namespaceInfoOf, stringMap } from '../labels.ts';
import {
  atLeastBaselineOf,
  desiredBaseline,
  isManagedPolicy,
  networkPolicyObject,
  type DesiredPolicy,
} from '../model/baseline-policies.ts';
import type { ClusterCache } from './cluster-cache.ts';
import {
  startLeaderElection,
  type LeaderElectionOptions,
  type LeaderElector,
} from './leader-election.ts';
import { kubeRest, listAll, type KubeRest } from './rest.ts';
import { sleep } from './sleep.ts';
import { workQueue } from './work-queue.ts';

/** What the controller reads of the cluster caches: the webhook's own in `serve --controller`. */
export type ControllerCaches = Pick<
  ClusterCache,
  'namespaces' | 'onChange' | 'synced' | 'lastActivity'
>;

/** A leader whose watches showed no sign of life for this long stops renewing its lease. */
export const WATCH_SILENCE_MS = 5 * 60_000;

/** Every namespace is reconciled again this often: drift a watch missed never lasts longer. */
export const RESYNC_MS = 10 * 60_000;

export interface ControllerOptions {
  readonly kubeConfig: KubeConfig;
  /** Namespaces and their change events come from these caches; the controller starts none. */
  readonly caches: ControllerCaches;
  /** Read at every reconcile, so a reloaded policy (DNS settings, exclusions) takes effect. */
  readonly policy: () => Policy;
  readonly logger: Logger;
  readonly identity?: string;
  readonly lease?: { readonly namespace?: string; readonly name?: string };
  /** Backoff between retries of failed API calls and watches; injectable so tests never sleep. */
  readonly delay?: (ms: number) => Promise<void>;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly leaderElection?: Pick<
    LeaderElectionOptions,
    'now' | 'delay' | 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'
  >;
  /** Default RESYNC_MS. */
  readonly resyncMs?: number;
  /** Told of every Namespace and NetworkPolicy event (the PolicyReport scanner rescans on it). */
  readonly onCacheChange?: () => void;
  /**
   * The mode whose baseline a namespace keeps at least, whatever its annotations say (a namespace
   * back in its own environment after an NS003 waiver expired); undefined: the annotations alone.
   */
  readonly baselineFloor?: (namespace: NamespaceInfo) => Mode | undefined;
  /** Default WATCH_SILENCE_MS. */
  readonly watchSilenceMs?: number;
  /** Told once when the leader stops renewing because its watches died (the command exits). */
  readonly onWatchesDead?: () => void;
  /** The clock for watch silence and the last-success time. */
  readonly now?: () => number;
}

/** What the controller's metrics and probes read. */
export interface ControllerStatus {
  readonly leader: boolean;
  readonly synced: boolean;
  readonly queueDepth: number;
  /** Reconciles by result, since start. */
  readonly reconciles: Readonly<Record<ReconcileResult, number>>;
  /** Epoch ms of the last successful reconcile; undefined before the first. */
  readonly lastSuccessMs: number | undefined;
}

export type ReconcileResult = 'success' | 'error' | 'lost-leadership';

export interface RunningController {
  isLeader(): boolean;
  status(): ControllerStatus;
  /** Namespaces reconciled since start (for tests and logs). */
  reconciled(): number;
  /** Queues every namespace again (a reloaded policy may change every baseline). */
  requeueAll(): void;
  stop(): Promise<void>;
}

const NP_PATH = '/apis/networking.k8s.io/v1';

/** The controller's lease lives in netguard's own namespace, taken from its service account (`system:serviceaccount:NS:NAME`). */
export function leaseNamespaceOf(policy: Policy): string {
  return policy.controllerServiceAccount.split(':')[2] ?? 'netguard-system';
}

const metadataString = (object: unknown, key: string): string => {
  const value = field(object, 'metadata', key);
  return typeof value === 'string' ? value : '';
};

/** Leadership lapsed mid-pass: the namespace waits, unwritten, for the next time this replica leads. */
class LostLeadership extends Error {}

interface Step {
  readonly describe: string;
  run(): Promise<unknown>;
}

/** A Warning Event beside the log line, so `kubectl get events -n NS` shows why the policy changed. Best effort. */
async function reportTakeBack(
  rest: KubeRest,
  namespace: string,
  name: string,
  logger: Logger,
): Promise<void> {
  logger.warn(
    { namespace, policy: name },
    'a NetworkPolicy squatted the baseline name without the netguard label; replaced it with the baseline',
  );
  const now = new Date().toISOString();
  const event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${name}.${randomUUID().slice(0, 8)}`, namespace },
    involvedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace, name },
    reason: 'BaselineNameTakenBack',
    message: `${name} is a reserved baseline name; netguard replaced a policy that was not its own with the namespace's baseline.`,
    type: 'Warning',
    source: { component: 'netguard-controller' },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
  await rest
    .create(`/api/v1/namespaces/${namespace}/events`, event)
    .catch((err: unknown) => logger.warn({ err, namespace }, 'could not record the event'));
}

/** The writes that bring a namespace to its baseline: upsert allows, then the deny, then delete what is no longer wanted (deny first). */
function planFor(
  rest: KubeRest,
  namespace: string,
  desired: readonly DesiredPolicy[],
  existing: readonly KubeObject[],
  logger: Logger,
): Step[] {
  const base = `${NP_PATH}/namespaces/${namespace}/networkpolicies`;
  const byName = new Map(existing.map((object) => [metadataString(object, 'name'), object]));
  const steps: Step[] = [];
  for (const policy of desired) {
    const current = byName.get(policy.name);
    if (current === undefined) {
      steps.push({
        describe: `create ${namespace}/${policy.name}`,
        run: () => rest.create(base, networkPolicyObject(namespace, policy)),
      });
      continue;
    }
    if (!isManagedPolicy(stringMap(field(current, 'metadata', 'labels')))) {
      // The name is reserved (NP011 refuses it to anyone else): a squatted one, written before netguard
      // ran or while its webhook was down, would keep the real baseline out. Take it back, loudly.
      const version = metadataString(current, 'resourceVersion');
      steps.push({
        describe: `take back ${namespace}/${policy.name} (squatted: not labelled as netguard's)`,
        run: () =>
          rest.replace(`${base}/${policy.name}`, networkPolicyObject(namespace, policy, version)),
      });
      steps.push({
        describe: `event BaselineNameTakenBack on ${namespace}/${policy.name}`,
        run: () => reportTakeBack(rest, namespace, policy.name, logger),
      });
      continue;
    }
    if (isDeepStrictEqual(field(current, 'spec'), policy.spec)) continue;
    const version = metadataString(current, 'resourceVersion');
    steps.push({
      describe: `repair ${namespace}/${policy.name}`,
      run: () =>
        rest.replace(`${base}/${policy.name}`, networkPolicyObject(namespace, policy, version)),
    });
  }
  const wanted = new Set(desired.map((policy) => policy.name));
  const stale = existing
    .filter(
      (object) =>
        !wanted.has(metadataString(object, 'name')) &&
        isManagedPolicy(stringMap(field(object, 'metadata', 'labels'))),
    )
    .map((object) => ({
      name: metadataString(object, 'name'),
      uid: metadataString(object, 'uid'),
      version: metadataString(object, 'resourceVersion'),
    }))
    .sort(
      (a, b) =>
        Number(b.name === 'netguard-default-deny') - Number(a.name === 'netguard-default-deny'),
    );
  for (const old of stale) {
    // Preconditions: delete exactly the object we judged to be ours, not one recreated since.
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      preconditions: { uid: old.uid, resourceVersion: old.version },
    };
    steps.push({
      describe: `delete ${namespace}/${old.name}`,
      run: () =>
        rest.remove(`${base}/${old.name}`, body).catch((err: unknown) => {
          if (!(err instanceof KubeApiError && err.code === 404)) throw err;
        }),
    });
  }
  return steps;
}

interface ReconcileDeps {
  readonly rest: KubeRest;
  readonly caches: ControllerCaches;
  readonly policy: () => Policy;
  readonly elector: LeaderElector;
  readonly logger: Logger;
  readonly baselineFloor: ControllerOptions['baselineFloor'];
}

/** Gone, or terminating: nothing is recreated in a namespace being deleted. */
async function isBeingDeleted(rest: KubeRest, namespace: string): Promise<boolean> {
  try {
    const fresh = await rest.get(`/api/v1/namespaces/${namespace}`);
    return field(fresh, 'metadata', 'deletionTimestamp') !== undefined;
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 404) return true;
    throw err;
  }
}

/** Brings one namespace to its baseline, against a fresh list of its policies. */
async function reconcileNamespace(deps: ReconcileDeps, namespace: string): Promise<void> {
  const object = deps.caches.namespaces.get(namespace);
  // Gone or terminating: its policies go with it.
  if (object === undefined || field(object, 'metadata', 'deletionTimestamp') !== undefined) return;
  const current = deps.policy();
  const floor = deps.baselineFloor?.(namespaceInfoOf(object));
  const desired = current.excludedNamespaces.has(namespace)
    ? []
    : desiredBaseline(
        atLeastBaselineOf(stringMap(field(object, 'metadata', 'annotations')), floor),
        current.networkPolicies.dns,
      );
  const existing = (
    await listAll(deps.rest, `${NP_PATH}/namespaces/${namespace}/networkpolicies`)
  ).filter(
    (np) =>
      BASELINE_POLICY_NAMES.includes(metadataString(np, 'name')) ||
      isManagedPolicy(stringMap(field(np, 'metadata', 'labels'))),
  );
  const steps = planFor(deps.rest, namespace, desired, existing, deps.logger);
  // The cache may lag a namespace's deletion: ask the API server before writing anything there.
  if (steps.length > 0 && (await isBeingDeleted(deps.rest, namespace))) return;
  for (const step of steps) {
    // Leadership is checked before every write: a replica that lost its lease never writes.
    if (!deps.elector.isLeader()) throw new LostLeadership('lost leadership');
    await step.run();
    deps.logger.info({ namespace }, step.describe);
  }
}

/** A 409, or a 404 on PUT (deleted since we read it): reread and replan at once. */
const isConflict = (err: unknown): boolean =>
  err instanceof KubeApiError &&
  (err.code === 409 || (err.code === 404 && err.message.startsWith('PUT')));

/**
 * Starts the baseline controller: change events of the cluster caches feed a queue of namespace
 * names; once the caches have synced, the elected leader reconciles each one. Every namespace is
 * queued again when this replica becomes leader, every `resyncMs`, and on requeueAll() (policy
 * reloads). Updates are resourceVersion-checked PUTs: a 409 rereads and replans at once; any
 * other error is retried with backoff.
 */
export function startController(options: ControllerOptions): RunningController {
  const logger = options.logger.child({ component: 'controller' });
  const rest = kubeRest(options.kubeConfig);
  const { caches } = options;
  const clock = options.now ?? Date.now;
  const silence = options.watchSilenceMs ?? WATCH_SILENCE_MS;
  let synced = false;
  let stopped = false;
  let count = 0;
  let lastSuccessMs: number | undefined;
  const reconciles: Record<ReconcileResult, number> = {
    success: 0,
    error: 0,
    'lost-leadership': 0,
  };
  const allNamespaces = (): string[] =>
    caches.namespaces.list().map((ns) => metadataString(ns, 'name'));

  const elector: LeaderElector = startLeaderElection({
    ...options.leaderElection,
    rest,
    logger,
    namespace: options.lease?.namespace ?? leaseNamespaceOf(options.policy()),
    name: options.lease?.name ?? 'netguard-controller',
    identity: options.identity ?? `${hostname()}_${randomUUID()}`,
    // A new leader trusts nothing it did not see itself: every namespace is reconciled again.
    onStartedLeading: () => requeueAll(),
    // A leader with dead watches would keep the lease and reconcile nothing: it lets go instead.
    fit: () => clock() - caches.lastActivity() < silence,
    onUnfit: () => options.onWatchesDead?.(),
  });
  const queue = workQueue({
    // Nothing is reconciled from a half-loaded cache: a namespace missing from it would look deleted.
    ready: () => synced && elector.isLeader(),
    delay: options.delay ?? sleep,
    initialBackoffMs: options.initialBackoffMs ?? 1_000,
    maxBackoffMs: options.maxBackoffMs ?? 60_000,
  });
  const requeueAll = (): void => {
    for (const name of allNamespaces()) queue.add(name);
    queue.poke();
  };

  caches.onChange((kind, _event, object) => {
    options.onCacheChange?.();
    if (kind === 'Namespace') queue.add(metadataString(object, 'name'));
    else if (BASELINE_POLICY_NAMES.includes(metadataString(object, 'name')))
      queue.add(metadataString(object, 'namespace'));
  });
  void caches.synced().then(() => {
    synced = true;
    logger.info('caches synced; reconciling every namespace');
    requeueAll();
  });
  const resync = setInterval(requeueAll, options.resyncMs ?? RESYNC_MS);
  resync.unref();

  const deps: ReconcileDeps = {
    rest,
    caches,
    policy: options.policy,
    elector,
    logger,
    baselineFloor: options.baselineFloor,
  };
  const attempt = async (namespace: string): Promise<void> => {
    for (let tries = 0; tries < 5; tries++) {
      try {
        await reconcileNamespace(deps, namespace);
        queue.forget(namespace);
        count += 1;
        reconciles.success += 1;
        lastSuccessMs = clock();
        return;
      } catch (err) {
        if (err instanceof LostLeadership) {
          reconciles['lost-leadership'] += 1;
          return queue.add(namespace);
        }
        if (isConflict(err) && tries < 4) continue;
        reconciles.error += 1;
        const wait = queue.retryLater(namespace);
        logger.warn({ err, namespace, retryInMs: wait }, 'reconcile failed; retrying');
        return;
      }
    }
  };

  const worker = (async (): Promise<void> => {
    for (
      let namespace = await queue.next();
      namespace !== undefined && !stopped;
      namespace = await queue.next()
    ) {
      await attempt(namespace);
    }
  })();

  return {
    isLeader: () => elector.isLeader(),
    status: () => ({
      leader: elector.isLeader(),
      synced,
      queueDepth: queue.depth(),
      reconciles: { ...reconciles },
      lastSuccessMs,
    }),
    reconciled: () => count,
    requeueAll,
    async stop() {
      stopped = true;
      clearInterval(resync);
      queue.stop();
      await worker;
      await elector.stop();
    },
  };
}
