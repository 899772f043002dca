import type { JsonPatchOperation as PatchOperation } from '../engine/types.ts';
import { asRecord, field } from '../object-access.ts';
import type { KubeObject, Mode } from '../vocabulary.ts';
import { baselineAnnotations } from '../model/baseline-annotations.ts';

/** RFC 6901: `~` becomes `~0`, `/` becomes `~1`, so `netguard.dev/allow-dns` stays one path segment. */
export function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** NS001: adds the baseline annotations the namespace lacks, never replacing a value the user set. */
export function namespaceBaselinePatch(namespace: KubeObject, mode: Mode): PatchOperation[] {
  const wanted = baselineAnnotations(mode);
  const metadata = asRecord(field(namespace, 'metadata'));
  if (metadata === undefined)
    return [{ op: 'add', path: '/metadata', value: { annotations: wanted } }];
  const annotations = asRecord(field(metadata, 'annotations'));
  if (annotations === undefined)
    return [{ op: 'add', path: '/metadata/annotations', value: wanted }];
  return Object.entries(wanted)
    .filter(([key]) => !Object.hasOwn(annotations, key))
    .map(([key, value]) => ({
      op: 'add',
      path: `/metadata/annotations/${escapePointer(key)}`,
      value,
    }));
}
