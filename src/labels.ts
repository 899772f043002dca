import { z } from 'zod';
import {
  METADATA_NAME_LABEL,
  type KubeObject,
  type Labels,
  type NamespaceInfo,
} from './vocabulary.ts';

export const labelSelectorSchema = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

/** Kubernetes label-selector semantics: every term must hold; an empty selector matches everything. */
export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
  }
  for (const term of selector.matchExpressions ?? []) {
    const present = Object.hasOwn(labels, term.key);
    const value = present ? labels[term.key] : undefined;
    const values = term.values ?? [];
    switch (term.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
    }
  }
  return true;
}

/** Reads a string map (labels, annotations) from an untrusted object; non-string values are dropped. */
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string') out[key] = entry;
  }
  return out;
}

/** A Namespace object as netguard reads it; the name label is always there, as the API server defaults it. */
export function namespaceInfoOf(object: KubeObject): NamespaceInfo {
  const metadata = object['metadata'];
  const fields =
    metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>) : {};
  const name = typeof fields['name'] === 'string' ? fields['name'] : '';
  return {
    name,
    labels: { [METADATA_NAME_LABEL]: name, ...stringMap(fields['labels']) },
    annotations: stringMap(fields['annotations']),
  };
}
