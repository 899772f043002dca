import { randomUUID } from 'node:crypto';
import { BASELINE_POLICY_NAMES } from '../vocabulary.ts';
import { hostname } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig, KubernetesListObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Policy } from '../config/policy.ts';
import { field } from '../object-access.ts';
import type { KubeObject } from '../vocabulary.ts';
import { stringMap } from '../labels.ts';
import { desiredBaseline, isManagedPolicy, networkPolicyObject, type DesiredPolicy } from './baseline-policies.ts';
import { startCache, type ObjectCache } from './informer.ts';
import { startLeaderElection, type LeaderElectionOptions, type LeaderElector } from './leader-election.ts';
import { KubeApiError, kubeRest, listAll, type KubeRest } from './rest.ts';

export interface ControllerOptions {
  readonly kubeConfig: KubeConfig;
  /** Read at every reconcile, so a reloaded policy (DNS settings, exclusions) takes effect. */
  readonly policy: () => Policy;
  readonly logger: Logger;
  readonly identity?: string;
  readonly lease?: { readonly namespace?: string; readonly name?: string };
  /** Backoff between retries of failed API calls and watches; injectable so tests never sleep. */
  readonly delay?: (ms: number) => Promise<void>;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly leaderElection?: Pick<LeaderElectionOptions, 'now' | 'delay' | 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>;
  /** Told of every Namespace and NetworkPolicy event (the PolicyReport scanner rescans on it). */
  readonly onCacheChange?: () => void;
}

export interface RunningController {
  isLeader(): boolean;
  /** Namespaces reconciled since start (for tests and logs). */
  reconciled(): number;
  stop(): Promise<void>;
}

const objectSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z
    .looseObject({
      name: z.string().optional(),
      namespace: z.string().optional(),
      resourceVersion: z.string().optional(),
    })
    .optional(),
});
type CachedObject = z.infer<typeof objectSchema>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());
const NP_PATH = '/apis/networking.k8s.io/v1';

/** The controller's lease lives in netguard's own namespace, taken from its service account (`system:serviceaccount:NS:NAME`). */
export function leaseNamespaceOf(policy: Policy): string {
  return policy.controllerServiceAccount.split(':')[2] ?? 'netguard-system';
}

function rawList(rest: KubeRest, path: string): () => Promise<KubernetesListObject<CachedObject>> {
  return async () => {
    const list = await rest.list(path);
    return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: list.resourceVersion }, items: list.items.map((item) => objectSchema.parse(item)) };
  };
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
async function reportTakeBack(rest: KubeRest, namespace: string, name: string, logger: Logger): Promise<void> {
  logger.warn({ namespace, policy: name }, 'a NetworkPolicy squatted the baseline name without the netguard label; replaced it with the baseline');
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
  await rest.create(`/api/v1/namespaces/${namespace}/events`, event).catch((err: unknown) => logger.warn({ err, namespace }, 'could not record the event'));
}

/** The writes that bring a namespace to its baseline: upsert allows, then the deny, then delete what is no longer wanted (deny first). */
function planFor(rest: KubeRest, namespace: string, desired: readonly DesiredPolicy[], existing: readonly KubeObject[], logger: Logger): Step[] {
  const base = `${NP_PATH}/namespaces/${namespace}/networkpolicies`;
  const byName = new Map(existing.map((object) => [metadataString(object, 'name'), object]));
  const steps: Step[] = [];
  for (const policy of desired) {
    const current = byName.get(policy.name);
    if (current === undefined) {
      steps.push({ describe: `create ${namespace}/${policy.name}`, run: () => rest.create(base, networkPolicyObject(namespace, policy)) });
      continue;
    }
    if (!isManagedPolicy(stringMap(field(current, 'metadata', 'labels')))) {
      // The name is reserved (NP011 refuses it to anyone else): a squatted one, written before netguard
      // ran or while its webhook was down, would keep the real baseline out. Take it back, loudly.
      const version = metadataString(current, 'resourceVersion');
      steps.push({ describe: `take back ${namespace}/${policy.name} (squatted: not labelled as netguard's)`, run: () => rest.replace(`${base}/${policy.name}`, networkPolicyObject(namespace, policy, version)) });
      steps.push({ describe: `event BaselineNameTakenBack on ${namespace}/${policy.name}`, run: () => reportTakeBack(rest, namespace, policy.name, logger) });
      continue;
    }
    if (isDeepStrictEqual(field(current, 'spec'), policy.spec)) continue;
    const version = metadataString(current, 'resourceVersion');
    steps.push({ describe: `repair ${namespace}/${policy.name}`, run: () => rest.replace(`${base}/${policy.name}`, networkPolicyObject(namespace, policy, version)) });
  }
  const wanted = new Set(desired.map((policy) => policy.name));
  const stale = existing
    .filter((object) => !wanted.has(metadataString(object, 'name')) && isManagedPolicy(stringMap(field(object, 'metadata', 'labels'))))
    .map((object) => ({ name: metadataString(object, 'name'), uid: metadataString(object, 'uid'), version: metadataString(object, 'resourceVersion') }))
    .sort((a, b) => Number(b.name === 'netguard-default-deny') - Number(a.name === 'netguard-default-deny'));
  for (const old of stale) {
    // Preconditions: delete exactly the object we judged to be ours, not one recreated since.
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: old.uid, resourceVersion: old.version } };
    steps.push({
      describe: `delete ${namespace}/${old.name}`,
      run: () => rest.remove(`${base}/${old.name}`, body).catch((err: unknown) => {
        if (!(err instanceof KubeApiError && err.code === 404)) throw err;
      }),
    });
  }
  return steps;
}

/**
 * Starts the baseline controller: caches of Namespaces and NetworkPolicies feed a queue of
 * namespace names; the elected leader reconciles each one against a fresh list of its policies.
 * Updates are resourceVersion-checked PUTs: a 409 (someone wrote first, or created the name)
 * rereads and replans at once; any other error is retried with backoff.
 */
export function startController(options: ControllerOptions): RunningController {
  const logger = options.logger.child({ component: 'controller' });
  const rest = kubeRest(options.kubeConfig);
  const delay = options.delay ?? sleep;
  const initialBackoff = options.initialBackoffMs ?? 1_000;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  const pending = new Set<string>();
  const failures = new Map<string, number>();
  let stopped = false;
  let count = 0;
  let wake: () => void = () => undefined;

  const enqueue = (namespace: string): void => {
    if (namespace === '' || stopped) return;
    pending.add(namespace);
    wake();
  };
  const cacheOptions = { kubeConfig: options.kubeConfig, logger, delay, initialBackoffMs: initialBackoff, maxBackoffMs: 30_000 };
  const namespaces: ObjectCache<CachedObject> = startCache<CachedObject>({
    ...cacheOptions,
    path: '/api/v1/namespaces',
    list: rawList(rest, '/api/v1/namespaces'),
    what: 'namespaces',
    onEvent: (_event, object) => {
      enqueue(object.metadata?.name ?? '');
      options.onCacheChange?.();
    },
  });
  const policies = startCache<CachedObject>({
    ...cacheOptions,
    path: `${NP_PATH}/networkpolicies`,
    list: rawList(rest, `${NP_PATH}/networkpolicies`),
    what: 'networkpolicies',
    onEvent: (_event, object) => {
      options.onCacheChange?.();
      if (BASELINE_POLICY_NAMES.includes(object.metadata?.name ?? '')) enqueue(object.metadata?.namespace ?? '');
    },
  });
  const policy = options.policy;
  const elector: LeaderElector = startLeaderElection({
    ...options.leaderElection,
    rest,
    logger,
    namespace: options.lease?.namespace ?? leaseNamespaceOf(policy()),
    name: options.lease?.name ?? 'netguard-controller',
    identity: options.identity ?? `${hostname()}_${randomUUID()}`,
    // A new leader trusts nothing it did not see itself: every namespace is reconciled again.
    onStartedLeading: () => {
      for (const ns of namespaces.list()) enqueue(ns.metadata?.name ?? '');
      wake();
    },
  });

  const reconcile = async (namespace: string): Promise<void> => {
    const object = namespaces.get(namespace);
    // Gone or terminating: its policies go with it.
    if (object === undefined || field(object, 'metadata', 'deletionTimestamp') !== undefined) return;
    const current = policy();
    const desired = current.excludedNamespaces.has(namespace)
      ? []
      : desiredBaseline(stringMap(field(object, 'metadata', 'annotations')), current.networkPolicies.dns);
    const existing = (await listAll(rest, `${NP_PATH}/namespaces/${namespace}/networkpolicies`)).filter((np) =>
      BASELINE_POLICY_NAMES.includes(metadataString(np, 'name')) || isManagedPolicy(stringMap(field(np, 'metadata', 'labels'))),
    );
    for (const step of planFor(rest, namespace, desired, existing, logger)) {
      // Leadership is checked before every write: a replica that lost its lease never writes.
      if (!elector.isLeader()) throw new LostLeadership('lost leadership');
      await step.run();
      logger.info({ namespace }, step.describe);
    }
  };

  const attempt = async (namespace: string): Promise<void> => {
    for (let tries = 0; tries < 5; tries++) {
      try {
        await reconcile(namespace);
        failures.delete(namespace);
        count += 1;
        return;
      } catch (err) {
        if (err instanceof LostLeadership) return void pending.add(namespace);
        const conflict = err instanceof KubeApiError && (err.code === 409 || (err.code === 404 && err.message.startsWith('PUT')));
        if (conflict && tries < 4) continue;
        const failed = (failures.get(namespace) ?? 0) + 1;
        failures.set(namespace, failed);
        const wait = Math.min(initialBackoff * 2 ** (failed - 1), maxBackoff);
        logger.warn({ err, namespace, retryInMs: wait }, 'reconcile failed; retrying');
        void delay(wait).then(() => enqueue(namespace));
        return;
      }
    }
  };

  const next = (): string | undefined => {
    // No wait for the first sync: a namespace is queued by its cache event, after the cache holds it.
    if (!elector.isLeader()) return undefined;
    const [first] = pending;
    if (first !== undefined) pending.delete(first);
    return first;
  };

  const worker = (async (): Promise<void> => {
    while (!stopped) {
      const namespace = next();
      if (namespace === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      await attempt(namespace);
    }
  })();

  return {
    isLeader: () => elector.isLeader(),
    reconciled: () => count,
    async stop() {
      stopped = true;
      wake();
      await worker;
      await elector.stop();
      await Promise.all([namespaces.stop(), policies.stop()]);
    },
  };
}
