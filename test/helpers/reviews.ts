import { randomUUID } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import type { KubeObject, Operation } from '../../src/vocabulary.ts';
import { readFixture } from './dates.ts';

/**
 * Loads every document of a YAML fixture, its relative dates resolved against `now` (see dates.ts);
 * each call returns fresh copies, so tests may mutate them.
 */
export function loadFixture(path: string, now?: Date): KubeObject[] {
  return parseAllDocuments(readFixture(path, now))
    .map((doc) => doc.toJS() as unknown)
    .filter((value): value is KubeObject => value !== null && typeof value === 'object');
}

export function loadOne(path: string, now?: Date): KubeObject {
  const [first] = loadFixture(path, now);
  if (first === undefined) throw new Error(`${path} holds no document`);
  return first;
}

const PLURALS: Record<string, string> = {
  Pod: 'pods',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  ReplicaSet: 'replicasets',
  ReplicationController: 'replicationcontrollers',
  Job: 'jobs',
  CronJob: 'cronjobs',
  Namespace: 'namespaces',
  NetworkPolicy: 'networkpolicies',
  GuardrailException: 'guardrailexceptions',
};

function meta(object: KubeObject | undefined): Record<string, unknown> {
  const value = object?.['metadata'];
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

export interface ReviewOptions {
  operation?: Operation;
  oldObject?: KubeObject;
  user?: { username: string; groups?: string[] };
  dryRun?: boolean;
  uid?: string;
}

/** An AdmissionReview v1 request as the API server sends it for `object`. */
export function reviewFor(object: KubeObject | undefined, options: ReviewOptions = {}) {
  const source = object ?? options.oldObject;
  const apiVersion = String(source?.['apiVersion'] ?? 'v1');
  const kind = String(source?.['kind'] ?? 'Pod');
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const name = String(meta(source)['name'] ?? '');
  const namespace = kind === 'Namespace' ? name : String(meta(source)['namespace'] ?? '');
  const operation = options.operation ?? 'CREATE';
  const user = options.user ?? {
    username: 'kubernetes-admin',
    groups: ['system:masters', 'system:authenticated'],
  };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? randomUUID(),
      kind: { group, version, kind },
      resource: { group, version, resource: PLURALS[kind] ?? `${kind.toLowerCase()}s` },
      requestKind: { group, version, kind },
      requestResource: { group, version, resource: PLURALS[kind] ?? `${kind.toLowerCase()}s` },
      name,
      namespace,
      operation,
      userInfo: {
        username: user.username,
        uid: randomUUID(),
        groups: user.groups ?? ['system:authenticated'],
      },
      object: operation === 'DELETE' ? null : (object ?? null),
      oldObject: options.oldObject ?? null,
      dryRun: options.dryRun ?? false,
      options: {
        apiVersion: 'meta.k8s.io/v1',
        kind:
          operation === 'DELETE'
            ? 'DeleteOptions'
            : operation === 'UPDATE'
              ? 'UpdateOptions'
              : 'CreateOptions',
      },
    },
  };
}
