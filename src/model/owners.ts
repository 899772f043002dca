import { arrayField, asRecord, field, stringField } from '../object-access.ts';
import type { KubeObject } from '../vocabulary.ts';

export interface Owner {
  readonly kind: string;
  readonly name: string;
}

/**
 * The workloads that own this object: its controller, and for a ReplicaSet pod the Deployment,
 * whose name is the ReplicaSet's minus the `-<pod-template-hash>` suffix the Deployment controller adds.
 */
export function ownersOf(object: KubeObject): Owner[] {
  const owners: Owner[] = [];
  for (const ref of arrayField(object, 'metadata', 'ownerReferences')) {
    const owner = asRecord(ref);
    if (field(owner, 'controller') !== true) continue;
    owners.push({ kind: stringField(owner, 'kind'), name: stringField(owner, 'name') });
  }
  const hash = stringField(object, 'metadata', 'labels', 'pod-template-hash');
  const replicaSet = owners.find((owner) => owner.kind === 'ReplicaSet');
  if (replicaSet !== undefined && hash !== '' && replicaSet.name.endsWith(`-${hash}`)) {
    owners.push({ kind: 'Deployment', name: replicaSet.name.slice(0, -hash.length - 1) });
  }
  return owners;
}
