/**
 * Every judged object is identified by group, version and kind, never by kind alone (DESIGN
 * "Policy dialects"): a Calico `projectcalico.org/v3` NetworkPolicy is not a Kubernetes one, and a
 * kind served under a group or version netguard does not know is not judged as if it were.
 */
import type { KubeObject } from '../../vocabulary.ts';
import { SERVED_KINDS } from '../kinds.ts';

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** `apps/v1` → apps, v1; `v1` → the core group. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

const gvkKey = (group: string, version: string, kind: string): string =>
  `${group}\u0000${version}\u0000${kind}`;

/** group, version and kind as written (NUL-joined: no part of a served kind holds one) → the name the engine and its rules know the kind by (kinds.ts). */
const JUDGED: ReadonlyMap<string, string> = new Map(
  SERVED_KINDS.flatMap((row) =>
    row.versions.map((version) => [gvkKey(row.group, version, row.kind), row.judgedAs] as const),
  ),
);

/** Marks a group/version/kind netguard does not judge; no rule names such a kind. */
export const UNJUDGED_PREFIX = 'unjudged:';

/**
 * The name the engine knows this group/version/kind by, or, for one it does not judge,
 * `unjudged:kind.version.group`, which no rule names (so it is admitted unjudged, never mistaken).
 */
export function judgedKindOf(gvk: GroupVersionKind): string {
  const known = JUDGED.get(gvkKey(gvk.group, gvk.version, gvk.kind));
  if (known !== undefined) return known;
  return `${UNJUDGED_PREFIX}${gvk.kind}.${gvk.version}.${gvk.group}`;
}

/** The kind a decision names: the judged name, or for an unjudged object the kind as written. */
export const shownKind = (judgedKind: string, writtenKind: string): string =>
  judgedKind.startsWith(UNJUDGED_PREFIX) ? writtenKind : judgedKind;

/** The object's own group, version and kind, from its `apiVersion` and `kind`. */
export function gvkOfObject(object: KubeObject | undefined): GroupVersionKind {
  const apiVersion = object?.['apiVersion'];
  const kind = object?.['kind'];
  return {
    ...splitApiVersion(typeof apiVersion === 'string' ? apiVersion : ''),
    kind: typeof kind === 'string' ? kind : '',
  };
}
