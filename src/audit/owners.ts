/**
 * Which listed objects `audit` reports at their workload instead of one by one. A listing cannot
 * say who wrote an ownerReference, so it must also mean something: the owner is listed with the uid
 * the reference names, and the object carries nothing the owner's pod template does not (the same
 * required labels and hostNetwork). A hand-made Pod naming a real ReplicaSet is judged itself.
 */
import { isDeepStrictEqual } from 'node:util';
import { requiredLabelKeys, type Policy } from '../config/policy.ts';
import { controllerRefOf } from '../engine/trust.ts';
import { field, stringField } from '../object-access.ts';
import { podTemplateOf } from '../model/pod-template.ts';
import { WORKLOAD_KINDS } from '../model/kinds.ts';
import type { KubeObject } from '../vocabulary.ts';

/** The owners each kind is reported at: those whose built-in controller creates it (model/kinds.ts). */
const REPORTED_AT: ReadonlyMap<string, readonly string[]> = new Map(
  WORKLOAD_KINDS.filter((row) => row.ownedBy.length > 0).map((row) => [row.kind, row.ownedBy]),
);

const key = (namespace: string, kind: string, name: string): string =>
  `${namespace}\u0000${kind}\u0000${name}`;

/** What the POD rules read of a pod template: the required labels and hostNetwork. */
function podFacts(kind: string, object: KubeObject, keys: readonly string[]): unknown {
  const template = podTemplateOf(kind, object);
  if (template === undefined) return undefined;
  return {
    labels: keys.map((label) => template.labels[label] ?? null),
    hostNetwork: field(template.spec, 'hostNetwork') === true,
  };
}

/** Owners as they are listed, page by page: the uid and template facts of each, never the object. */
export interface OwnerIndex {
  /** Owners a later page's objects may name (list Deployments before ReplicaSets before Pods). */
  know(objects: readonly KubeObject[]): void;
  /** Is this object reported at the workload that owns it? */
  reportedAtOwner(object: KubeObject): boolean;
}

const OWNER_KINDS = new Set([...REPORTED_AT.values()].flat());

export function ownerIndex(policy: Policy): OwnerIndex {
  const owners = new Map<string, { uid: string; facts: unknown }>();
  const keys = requiredLabelKeys(policy);
  return {
    know(objects) {
      for (const object of objects) {
        const kind = stringField(object, 'kind');
        if (!OWNER_KINDS.has(kind)) continue;
        const name = stringField(object, 'metadata', 'name');
        owners.set(key(stringField(object, 'metadata', 'namespace'), kind, name), {
          uid: stringField(object, 'metadata', 'uid'),
          facts: podFacts(kind, object, keys),
        });
      }
    },
    reportedAtOwner(object) {
      const kind = stringField(object, 'kind');
      const ref = controllerRefOf(object);
      if (ref === undefined || !(REPORTED_AT.get(kind) ?? []).includes(ref.kind)) return false;
      const owner = owners.get(
        key(stringField(object, 'metadata', 'namespace'), ref.kind, ref.name),
      );
      if (owner === undefined || ref.uid === '' || owner.uid !== ref.uid) return false;
      return isDeepStrictEqual(podFacts(kind, object, keys), owner.facts);
    },
  };
}

/** A predicate over a whole listing: is this object reported at the workload that owns it? */
export function reportedAtOwner(
  objects: readonly KubeObject[],
  policy: Policy,
): (object: KubeObject) => boolean {
  const index = ownerIndex(policy);
  index.know(objects);
  return (object) => index.reportedAtOwner(object);
}
