/**
 * netguard behind the stand-in API server: every write is authenticated as one of the identities
 * below (the request's userInfo), passes /mutate and /validate of the real webhook over HTTPS, and
 * the webhook judges with `serve`'s world over caches that watch the same fake API server.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import { pino } from 'pino';
import type { Test } from 'tap';
import { startWorld, type LiveWorld } from '../../src/live-world.ts';
import {
  startFakeKubeApi,
  type AdmissionAttempt,
  type AdmissionOutcome,
  type FakeKubeApi,
  type RawReply,
  type UserInfo,
} from './fake-kube-api.ts';
import { reviewFor } from './reviews.ts';
import { until } from './until.ts';
import { startWebhook, type RunningWebhook } from './webhook.ts';

type Obj = Record<string, any>;

const account = (namespace: string, name: string): UserInfo => ({
  username: `system:serviceaccount:${namespace}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
});

/** The identities that matter to "Who may": each one's token is its key. */
export const IDENTITIES = {
  user: { username: 'alice@example.com', groups: ['team-shop'] },
  approver: { username: 'carol@example.com', groups: ['netguard:approvers'] },
  'deployment-controller': account('kube-system', 'deployment-controller'),
  'replicaset-controller': account('kube-system', 'replicaset-controller'),
  'cronjob-controller': account('kube-system', 'cronjob-controller'),
  'job-controller': account('kube-system', 'job-controller'),
  'namespace-controller': account('kube-system', 'namespace-controller'),
  'kube-controller-manager': { username: 'system:kube-controller-manager', groups: [] },
  /** An unrelated kube-system account: a user, however close its name. */
  'kube-system-other': account('kube-system', 'coredns'),
  /** A name that starts with a controller's: whole names, never prefixes. */
  'kube-system-lookalike': account('kube-system', 'deployment-controller-extra'),
  'argo-rollouts': account('argo-rollouts', 'argo-rollouts'),
  netguard: account('netguard-system', 'netguard'),
  'netguard-controller': account('netguard-system', 'netguard-controller'),
} as const satisfies Record<string, UserInfo>;
export type Identity = keyof typeof IDENTITIES;

/** The API server's admission chain for netguard's webhooks: /mutate where it mutates, then /validate. */
function admissionThrough(webhook: () => RunningWebhook) {
  return async (attempt: AdmissionAttempt): Promise<AdmissionOutcome> => {
    const user = {
      username: attempt.user.username,
      groups: [...attempt.user.groups, 'system:authenticated'],
    };
    const review = (object: Obj | undefined) =>
      reviewFor(object, {
        operation: attempt.operation,
        ...(attempt.oldObject === undefined ? {} : { oldObject: attempt.oldObject }),
        user,
      });
    const warnings: string[] = [];
    let object = attempt.object;
    if (
      attempt.operation !== 'DELETE' &&
      ['namespaces', 'guardrailexceptions'].includes(attempt.resource)
    ) {
      const mutated = (await webhook().post('/mutate', review(object))).json().response;
      warnings.push(...(mutated.warnings ?? []));
      if (mutated.patch !== undefined) {
        const patch = JSON.parse(Buffer.from(mutated.patch, 'base64').toString('utf8'));
        object = jsonpatch.applyPatch(structuredClone(object), patch, true, false).newDocument;
      }
    }
    const verdict = (await webhook().post('/validate', review(object))).json().response;
    warnings.push(...(verdict.warnings ?? []));
    if (verdict.allowed === true) return { allowed: true, object, warnings };
    return {
      allowed: false,
      code: verdict.status.code,
      reason: verdict.status.reason,
      message: `admission webhook "validate.netguard.dev" denied the request: ${verdict.status.message}`,
      warnings,
    };
  };
}

export interface GuardedCluster {
  readonly api: FakeKubeApi;
  readonly world: LiveWorld;
  /** One request as `who`, through authentication and netguard's admission. */
  send(who: Identity, method: string, path: string, body?: Obj): Promise<RawReply>;
}

/** Starts the fake API server with `seed` stored, and netguard (policy `config`) in front of it. */
export async function guardedCluster(
  t: Test,
  options: { config?: string; seed?: Readonly<Record<string, readonly Obj[]>>; now?: Date } = {},
): Promise<GuardedCluster> {
  let webhook: RunningWebhook | undefined;
  const api = await startFakeKubeApi(t, {
    users: Object.fromEntries(Object.entries(IDENTITIES).map(([token, user]) => [token, user])),
    admission: admissionThrough(() => {
      if (webhook === undefined) throw new Error('webhook not started');
      return webhook;
    }),
  });
  for (const [collection, objects] of Object.entries(options.seed ?? {}))
    api.seed(collection, ...objects);
  const dir = mkdtempSync(join(tmpdir(), 'netguard-chain-'));
  writeFileSync(join(dir, 'exceptions.yaml'), '');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(api.kubeconfigFor('netguard'));
  const world = startWorld({
    config: options.config ?? 'policies/guardrails.yaml',
    exceptions: join(dir, 'exceptions.yaml'),
    logger: pino({ level: 'silent' }),
    kubeConfig,
    delay: async () => undefined,
  });
  t.teardown(() => world.close());
  const now = options.now ?? new Date();
  webhook = await startWebhook(t, { context: () => world.context(now), notReady: world.notReady });
  await until(() => world.notReady().length === 0, 'netguard caches synced');
  return {
    api,
    world,
    send: (who, method, path, body) => api.send(who, method, path, body),
  };
}
