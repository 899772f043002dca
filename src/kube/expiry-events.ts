/**
 * Tells people before a waiver ends, off the request path: Kubernetes Events `WaiverExpiring` (at
 * `exceptions.warnBefore`) and `WaiverExpired` (at expiry) on the GuardrailException and on its
 * target where that exists, so `kubectl describe` and event exporters show them to the owners.
 * Event names are derived from the waiver, so a restart or a second replica re-sending one gets
 * 409 AlreadyExists and nothing is said twice.
 */
import { KubeApiError } from '../errors.ts';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeRest } from './rest.ts';
import { stringField } from '../object-access.ts';
import { baseEnvironment } from '../config/environment.ts';
import type { Policy } from '../config/policy.ts';
import { desiredBaseline } from '../model/baseline-policies.ts';
import { baselineAnnotations } from '../model/baseline-annotations.ts';
import { apiVersionOf, SERVED_KINDS, workloadKind } from '../model/kinds.ts';
import { unknownNamespace, type KubeObject } from '../vocabulary.ts';
import { daysLeft, daysLeftText, expiryDate } from '../exceptions/state.ts';
import { targetLabel, waiverLabel, type Waiver } from '../exceptions/waiver.ts';

export type ExpiryReason = 'WaiverExpiring' | 'WaiverExpired';

/**
 * REST paths of the objects a waiver may name whose Events netguard writes: workloads, NetworkPolicies
 * and Namespaces, as model/kinds.ts serves them (a selector target names no single object).
 */
const TARGET_PATHS: ReadonlyMap<string, (namespace: string, name: string) => string> = new Map(
  SERVED_KINDS.filter(
    (row) =>
      workloadKind(row.kind) !== undefined ||
      row.judgedAs === 'NetworkPolicy' ||
      row.judgedAs === 'Namespace',
  ).map((row) => {
    const api = row.group === '' ? '/api' : '/apis';
    const base = `${api}/${apiVersionOf(row.group, row.versions[0] ?? '')}`;
    const path =
      row.scope === 'Cluster'
        ? (_namespace: string, name: string) => `${base}/${row.resource}/${name}`
        : (namespace: string, name: string) =>
            `${base}/namespaces/${namespace}/${row.resource}/${name}`;
    return [row.judgedAs, path] as const;
  }),
);

interface Involved {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly uid: string | undefined;
}

/** What is due for a waiver now: nothing, or the Event of the stage it has reached. Pending waivers waive nothing and say nothing. */
export function dueReason(
  waiver: Waiver,
  now: Date,
  warnBeforeMs: number,
): ExpiryReason | undefined {
  if (!waiver.approved) return undefined;
  const left = waiver.expiresAt - now.getTime();
  if (left <= 0) return 'WaiverExpired';
  return left <= warnBeforeMs ? 'WaiverExpiring' : undefined;
}

/** events.k8s.io caps a note at 1 KiB; owner and target are requester-written, so both are bounded. */
const MESSAGE_MAX = 1024;
const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

export function expiryMessage(
  waiver: Waiver,
  reason: ExpiryReason,
  now: Date,
  policy?: Policy,
): string {
  const text = expiryText({ ...waiver, owner: clip(waiver.owner, 120) }, reason, now);
  return clip(`${text}${environmentReturn(waiver, policy)}`, MESSAGE_MAX);
}

/**
 * An NS003 waiver's end moves its namespace back to its own environment: say which baseline
 * policies netguard will then keep there, and how to see what they would cut beforehand.
 */
function environmentReturn(waiver: Waiver, policy: Policy | undefined): string {
  const name = waiver.target.name;
  if (
    policy === undefined ||
    waiver.target.kind !== 'Namespace' ||
    name === undefined ||
    !waiver.rules.has('NS003')
  )
    return '';
  const { environment } = baseEnvironment(policy, unknownNamespace(name));
  const policies = desiredBaseline(
    baselineAnnotations(environment.mode),
    policy.networkPolicies.dns,
  ).map((wanted) => wanted.name);
  const appear =
    policies.length === 0 ? 'no baseline policies' : `the NetworkPolicies ${policies.join(', ')}`;
  return ` Then ${clip(name, 63)} is judged in ${environment.name} (${environment.mode}) again and netguard keeps ${appear} there; see what they would cut: netguard reach --as-enforced`;
}

function expiryText(waiver: Waiver, reason: ExpiryReason, now: Date): string {
  const rules = [...waiver.rules].join(', ');
  const target = clip(targetLabel(waiver.target), 200);
  const renew = `netguard exception renew -n ${waiver.namespace} ${waiver.name} --expires 7d`;
  if (reason === 'WaiverExpiring') {
    return (
      `Waiver ${waiverLabel(waiver)} (owner ${waiver.owner}) expires on ${expiryDate(waiver)} (${daysLeftText(daysLeft(waiver, now))}); ` +
      `then ${rules} is enforced on ${target} again. Fix it, or have a renewal approved: ${renew}`
    );
  }
  return (
    `Waiver ${waiverLabel(waiver)} (owner ${waiver.owner}) expired on ${expiryDate(waiver)}: ${rules} is enforced on ${target} again, ` +
    `and an update that keeps the violation is denied. Fix it, or have a renewal approved: ${renew}`
  );
}

const shortHash = (text: string): string =>
  createHash('sha256').update(text).digest('hex').slice(0, 12);

/** core/v1 Event, as client-go's recorder writes it. Cluster-scoped objects' events go to `default`. */
export function expiryEvent(
  waiver: Waiver,
  reason: ExpiryReason,
  involved: Involved,
  now: Date,
  policy?: Policy,
): KubeObject {
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const key = shortHash(`${waiverLabel(waiver)}/${waiver.expires}/${reason}`);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: `${involved.name.slice(0, 200)}.${reason.toLowerCase()}.${key}`,
      namespace: involved.namespace ?? 'default',
    },
    involvedObject: {
      apiVersion: involved.apiVersion,
      kind: involved.kind,
      name: involved.name,
      ...(involved.namespace === undefined ? {} : { namespace: involved.namespace }),
      ...(involved.uid === undefined ? {} : { uid: involved.uid }),
    },
    reason,
    message: expiryMessage(waiver, reason, now, policy),
    type: 'Warning',
    source: { component: 'netguard' },
    reportingComponent: 'netguard.dev/exceptions',
    reportingInstance: 'netguard',
    firstTimestamp: stamp,
    lastTimestamp: stamp,
    count: 1,
  };
}

export interface ExpiryEventsOptions {
  readonly rest: KubeRest;
  readonly waivers: () => readonly Waiver[];
  readonly warnBeforeMs: () => number;
  readonly now: () => Date;
  readonly logger: Logger;
  /** The policy, so an NS003 waiver's Events name the baseline its namespace gets back. */
  readonly policy?: () => Policy;
  /** How often to look (default one minute); 0 = only when tick() is called (tests). */
  readonly intervalMs?: number;
}

export interface ExpiryEvents {
  /** Looks once; resolves with the Events it created. */
  tick(): Promise<KubeObject[]>;
  stop(): void;
}

const metadataString = (object: KubeObject, key: string): string | undefined =>
  stringField(object, 'metadata', key) || undefined;

export function startExpiryEvents(options: ExpiryEventsOptions): ExpiryEvents {
  const { rest, logger } = options;
  const sent = new Set<string>();

  /** The waiver itself (when its source keeps API objects: a file entry is none) and its target, if it exists. */
  const involvedOf = async (waiver: Waiver): Promise<Involved[]> => {
    const involved: Involved[] = [];
    const { apiObject } = waiver.source;
    if (apiObject !== undefined) {
      involved.push({
        apiVersion: apiObject.apiVersion,
        kind: apiObject.kind,
        name: waiver.name,
        namespace: waiver.namespace,
        uid: waiver.uid,
      });
    }
    const { kind, name } = waiver.target;
    const path = TARGET_PATHS.get(kind);
    if (name === undefined || path === undefined) return involved;
    try {
      const target = await rest.get(path(waiver.namespace, name));
      const apiVersion = typeof target['apiVersion'] === 'string' ? target['apiVersion'] : '';
      involved.push({
        apiVersion,
        kind,
        name,
        namespace: kind === 'Namespace' ? undefined : waiver.namespace,
        uid: metadataString(target, 'uid'),
      });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.code === 404))
        logger.warn({ err, waiver: waiverLabel(waiver) }, 'cannot read the target of a waiver');
    }
    return involved;
  };

  const emit = async (event: KubeObject): Promise<boolean> => {
    const namespace = metadataString(event, 'namespace') ?? 'default';
    try {
      await rest.create(`/api/v1/namespaces/${namespace}/events`, event);
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 409) return false; // already said, by us or another replica
      throw err;
    }
  };

  const tick = async (): Promise<KubeObject[]> => {
    const now = options.now();
    const created: KubeObject[] = [];
    const waivers = options.waivers();
    // Forget what was said of waivers that are gone, so the memory is bounded by the live waivers.
    const live = new Set(waivers.map((waiver) => `${waiverLabel(waiver)}/${waiver.expires}/`));
    for (const key of sent) if (!live.has(key.slice(0, key.lastIndexOf('/') + 1))) sent.delete(key);
    for (const waiver of waivers) {
      const reason = dueReason(waiver, now, options.warnBeforeMs());
      const key = `${waiverLabel(waiver)}/${waiver.expires}/${reason}`;
      if (reason === undefined || sent.has(key)) continue;
      try {
        for (const involved of await involvedOf(waiver)) {
          const event = expiryEvent(waiver, reason, involved, now, options.policy?.());
          if (await emit(event)) created.push(event);
        }
        sent.add(key);
      } catch (err) {
        logger.warn(
          { err, waiver: waiverLabel(waiver), reason },
          'cannot record a waiver expiry Event; retrying at the next look',
        );
      }
    }
    return created;
  };

  // One look at a time: a slow API server never has two looks racing over the same waivers.
  let running: Promise<unknown> = Promise.resolve();
  const queued = (): Promise<KubeObject[]> => {
    const next = running.then(tick, tick);
    running = next;
    return next;
  };
  const interval = options.intervalMs ?? 60_000;
  const timer =
    interval > 0
      ? setInterval(
          () =>
            void queued().catch((err: unknown) =>
              logger.warn({ err }, 'waiver expiry look failed'),
            ),
          interval,
        )
      : undefined;
  timer?.unref();
  return { tick: queued, stop: () => clearInterval(timer) };
}
