/** An object as the API server sends it: metadata, and whatever else. */
export interface SlimmableObject {
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
  readonly [key: string]: unknown;
}

/** The metadata a rule, the controller or a cache key reads; the rest (managedFields...) is dropped. */
const KEPT_METADATA = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'labels',
  'ownerReferences',
] as const;

/** netguard reads only its own annotations from cached objects (the baseline, the environment). */
const OWN_ANNOTATION = /^netguard\.dev\//;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function ownAnnotations(value: unknown): Record<string, unknown> | undefined {
  if (!isRecord(value)) return undefined;
  const kept = Object.entries(value).filter(([key]) => OWN_ANNOTATION.test(key));
  return kept.length === 0 ? undefined : Object.fromEntries(kept);
}

/**
 * What a cache keeps of an object as it arrives: kind, identity and the metadata above, netguard's
 * own annotations, and the top-level `fields` a rule judges (all of them when not given). A
 * kubectl last-applied annotation or managedFields can be larger than the spec; a cache of
 * owners needs their uid only. Memory then follows the number of objects, not their size.
 */
export function slimObject(
  object: SlimmableObject,
  fields?: readonly string[],
): Record<string, unknown> {
  const slim: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (key === 'metadata') continue;
    if (key === 'apiVersion' || key === 'kind' || fields === undefined || fields.includes(key))
      slim[key] = value;
  }
  const metadata = object.metadata;
  if (metadata === undefined) return slim;
  const kept: Record<string, unknown> = {};
  for (const key of KEPT_METADATA) if (metadata[key] !== undefined) kept[key] = metadata[key];
  const annotations = ownAnnotations(metadata['annotations']);
  if (annotations !== undefined) kept['annotations'] = annotations;
  return { ...slim, metadata: kept };
}
