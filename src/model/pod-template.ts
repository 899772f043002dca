import { stringMap } from '../labels.ts';
import { asRecord, field } from '../object-access.ts';
import type { KubeObject, PodKind } from '../vocabulary.ts';

/** Where each judged kind keeps the pod it creates; a Pod is its own template. */
export const TEMPLATE_PATH: Readonly<Record<PodKind, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export interface PodTemplate {
  /** `spec.template.` for a Deployment, empty for a Pod: prefix of every field path. */
  readonly prefix: string;
  readonly labels: Record<string, string>;
  readonly spec: KubeObject | undefined;
}

export function podTemplateOf(kind: string, object: KubeObject): PodTemplate | undefined {
  const path = (TEMPLATE_PATH as Readonly<Record<string, readonly string[] | undefined>>)[kind];
  if (path === undefined) return undefined;
  const template = path.length === 0 ? object : asRecord(field(object, ...path));
  return {
    prefix: path.length === 0 ? '' : `${path.join('.')}.`,
    labels: stringMap(field(template, 'metadata', 'labels')),
    spec: asRecord(field(template, 'spec')),
  };
}
