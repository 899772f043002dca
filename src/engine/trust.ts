/**
 * Whom the engine believes about ownership. A Pod's controller ownerReference is the requester's
 * own writing: it counts only when the request comes from a controller identity, or the owner it
 * names exists in the cluster cache with that uid.
 */
import { ownersOf } from '../model/owners.ts';
import { arrayField, asRecord, field, stringField } from '../object-access.ts';
import type { KubeObject } from '../vocabulary.ts';
import type { AdmissionInput, EvaluationContext, RuleTarget } from './types.ts';

/** Controllers whose pods are judged at the workload; on the Pod a deny only warns, so scaling never breaks. */
const POD_CONTROLLERS = new Set([
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'ReplicationController',
]);

export interface ControllerRef {
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

/** The controller ownerReference naming a pod controller, as written (not yet trusted). */
export function controllerOf(object: KubeObject): ControllerRef | undefined {
  for (const ref of arrayField(object, 'metadata', 'ownerReferences')) {
    const owner = asRecord(ref);
    if (field(owner, 'controller') !== true) continue;
    const kind = stringField(owner, 'kind');
    if (POD_CONTROLLERS.has(kind))
      return { kind, name: stringField(owner, 'name'), uid: stringField(owner, 'uid') };
  }
  return undefined;
}

/** Identities that run the workload controllers: their Pods are the workload scaling or healing. */
export function isControllerIdentity(username: string): boolean {
  return (
    username === 'system:kube-controller-manager' ||
    username.startsWith('system:serviceaccount:kube-system:')
  );
}

/** Whether this ownerReference is real: asked by a controller identity, or the owner is cached with that uid. */
export function ownerVerified(
  input: AdmissionInput,
  namespace: string,
  owner: ControllerRef,
  ctx: EvaluationContext,
): boolean {
  if (isControllerIdentity(input.user.username)) return true;
  const uid = ctx.cluster.ownerUid(namespace, owner.kind, owner.name);
  return uid !== undefined && uid === owner.uid;
}

/** The object's owners, if its controller ownerReference is trusted (see RuleTarget.owners). */
export function trustedOwners(
  input: AdmissionInput,
  object: KubeObject,
  namespace: string,
  ctx: EvaluationContext,
): RuleTarget['owners'] {
  const ref = arrayField(object, 'metadata', 'ownerReferences')
    .map(asRecord)
    .find((owner) => field(owner, 'controller') === true);
  if (ref === undefined) return [];
  const named = {
    kind: stringField(ref, 'kind'),
    name: stringField(ref, 'name'),
    uid: stringField(ref, 'uid'),
  };
  return ownerVerified(input, namespace, named, ctx) ? ownersOf(object) : [];
}
