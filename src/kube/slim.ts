import { TEMPLATE_PATH } from '../model/pod-template.ts';
import type { PodKind } from '../vocabulary.ts';
import type { DroppedPath } from './json-prune.ts';
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

/** What judging and `reach` read of a pod spec, a container and a Pod's status; nothing else is kept. */
const POD_SPEC_FIELDS = ['hostNetwork'];
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];
const CONTAINER_FIELDS = ['name', 'ports'];
const POD_STATUS_FIELDS = ['phase', 'podIP', 'podIPs'];

const slimContainers = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map((container) =>
        isRecord(container) ? pick(container, CONTAINER_FIELDS) : container,
      )
    : value;

function pick(object: Readonly<Record<string, unknown>>, keys: readonly string[]) {
  const kept: Record<string, unknown> = {};
  for (const key of keys) if (object[key] !== undefined) kept[key] = object[key];
  return kept;
}

/** A pod spec as rules and `reach` read it: hostNetwork and the containers' ports. */
function slimPodSpec(spec: unknown): unknown {
  if (!isRecord(spec)) return spec;
  const kept = pick(spec, POD_SPEC_FIELDS);
  for (const key of CONTAINER_LISTS)
    if (spec[key] !== undefined) kept[key] = slimContainers(spec[key]);
  return kept;
}

const scalars = (object: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(object).filter(([, value]) => value === null || typeof value !== 'object'),
  );

/** Keeps, along `path` down to the pod template, the scalars and selector of each level. */
function slimAlong(object: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  const [key, ...rest] = path;
  if (key === undefined) {
    const metadata = isRecord(object['metadata'])
      ? slimObject({ metadata: object['metadata'] }).metadata
      : undefined;
    return { ...(metadata === undefined ? {} : { metadata }), spec: slimPodSpec(object['spec']) };
  }
  const kept: Record<string, unknown> = { ...scalars(object), ...pick(object, ['selector']) };
  const next = object[key];
  if (isRecord(next)) kept[key] = slimAlong(next, rest);
  return kept;
}

/**
 * A Pod or workload as the audit and the PolicyReport scan keep it while a page is judged: the
 * slim metadata, the pod template's labels and what rules and `reach` read of its spec
 * (hostNetwork, container ports), the workload's selector and scalars, a Pod's addresses. A Job's
 * env, command or volumes can make it 1.5 MiB; what is kept does not grow with them.
 */
export function slimWorkload(object: SlimmableObject, kind: PodKind): Record<string, unknown> {
  const base = slimObject(object, []);
  const path = TEMPLATE_PATH.get(kind) ?? [];
  if (path.length === 0) {
    const status = isRecord(object['status'])
      ? pick(object['status'], POD_STATUS_FIELDS)
      : undefined;
    return {
      ...base,
      spec: slimPodSpec(object['spec']),
      ...(status === undefined ? {} : { status }),
    };
  }
  const [top, ...rest] = path;
  const spec = top === undefined ? undefined : object[top];
  return isRecord(spec) && top !== undefined ? { ...base, [top]: slimAlong(spec, rest) } : base;
}

const startsWith = (path: readonly string[], prefix: readonly string[]): boolean =>
  prefix.every((part, n) => path[n] === part);

/**
 * The members of a listed Pod or workload that slimWorkload would drop and that can be large,
 * left out of its text before it is parsed (json-prune.ts): managedFields, annotations other than
 * netguard's, the pod spec beyond what is kept, containers beyond name and ports, a Pod's status
 * beyond its addresses. What is not dropped here is still slimmed after parsing.
 */
export function droppedBeforeParse(kind: PodKind): DroppedPath {
  const podSpec = [...(TEMPLATE_PATH.get(kind) ?? []), 'spec'];
  return (path) => {
    const depth = path.length;
    const last = path[depth - 1] ?? '';
    if (path[depth - 2] === 'metadata' && last === 'managedFields') return true;
    if (path[depth - 3] === 'metadata' && path[depth - 2] === 'annotations')
      return !OWN_ANNOTATION.test(last);
    if (kind === 'Pod' && depth === 2 && path[0] === 'status')
      return !POD_STATUS_FIELDS.includes(last);
    if (!startsWith(path, podSpec)) return false;
    if (depth === podSpec.length + 1)
      return !POD_SPEC_FIELDS.includes(last) && !CONTAINER_LISTS.includes(last);
    return (
      depth === podSpec.length + 3 &&
      CONTAINER_LISTS.includes(path[podSpec.length] ?? '') &&
      !CONTAINER_FIELDS.includes(last)
    );
  };
}
