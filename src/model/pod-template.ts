import { stringMap } from '../labels.ts';
import { asRecord, field } from '../object-access.ts';
import type { KubeObject } from '../vocabulary.ts';
import { WORKLOAD_KINDS } from './kinds.ts';

/** Where each workload kind keeps the pod it creates (kinds.ts); a Pod is its own template. */
export const TEMPLATE_PATH: ReadonlyMap<string, readonly string[]> = new Map(
  WORKLOAD_KINDS.map((row) => [row.kind, row.podTemplate]),
);

export interface PodTemplate {
  /** `spec.template.` for a Deployment, empty for a Pod: prefix of every field path. */
  readonly prefix: string;
  readonly labels: Record<string, string>;
  readonly spec: KubeObject | undefined;
}

export function podTemplateOf(kind: string, object: KubeObject): PodTemplate | undefined {
  const path = TEMPLATE_PATH.get(kind);
  if (path === undefined) return undefined;
  const template = path.length === 0 ? object : asRecord(field(object, ...path));
  return {
    prefix: path.length === 0 ? '' : `${path.join('.')}.`,
    labels: stringMap(field(template, 'metadata', 'labels')),
    spec: asRecord(field(template, 'spec')),
  };
}
