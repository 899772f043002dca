/**
 * Whom the engine believes about ownership. An object's controller ownerReference is the
 * requester's own writing: it counts only when the request comes from a controller identity
 * (DESIGN "Who may, and until when"). The webhook keeps no owner caches; trust is the identity.
 */
import type { Policy } from '../config/policy.ts';
import { ownersOf } from '../model/owners.ts';
import { ownedBy, WORKLOAD_KINDS } from '../model/kinds.ts';
import { arrayField, asRecord, field, stringField } from '../object-access.ts';
import type { KubeObject } from '../vocabulary.ts';
import type { AdmissionInput, EvaluationContext, RuleTarget, UserInfo } from './types.ts';

/** kube-controller-manager's own controllers, each its own service account in kube-system. */
const KUBE_SYSTEM_CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'replication-controller',
  'statefulset-controller',
  'daemon-set-controller',
  'job-controller',
  'cronjob-controller',
  'namespace-controller',
  'generic-garbage-collector',
] as const;

export const KUBE_CONTROLLER_MANAGER = 'system:kube-controller-manager';
export const NAMESPACE_CONTROLLER = 'system:serviceaccount:kube-system:namespace-controller';

/** The built-in controller identities, compared whole: any other kube-system account is a user. */
export const BUILT_IN_CONTROLLERS: ReadonlySet<string> = new Set([
  KUBE_CONTROLLER_MANAGER,
  ...KUBE_SYSTEM_CONTROLLERS.map((name) => `system:serviceaccount:kube-system:${name}`),
]);

/** `group/Kind` of an owner as its ownerReference's apiVersion and kind name it (version ignored). */
const groupKind = (apiVersion: string, kind: string): string =>
  `${apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : ''}/${kind}`;

/** What each built-in controller creates, as `Kind ← group/OwnerKind` (model/kinds.ts): the only writes judged at an owner. */
const CREATES: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  WORKLOAD_KINDS.flatMap((owner) =>
    owner.controller === undefined
      ? []
      : [
          [
            owner.controller,
            ownedBy(owner.kind).map((row) => `${row.kind} ← ${owner.group}/${owner.kind}`),
          ],
        ],
  ),
);

/** Per identity; kube-controller-manager without per-controller accounts runs them all. */
const JUDGED_AT: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ...Object.entries(CREATES).map(
    ([name, pairs]) => [`system:serviceaccount:kube-system:${name}`, new Set(pairs)] as const,
  ),
  [KUBE_CONTROLLER_MANAGER, new Set(Object.values(CREATES).flat())],
]);

export interface ControllerRef {
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

/** The controller ownerReference, as written (not yet trusted). */
export function controllerRefOf(
  object: KubeObject,
): (ControllerRef & { readonly groupKind: string }) | undefined {
  const owner = arrayField(object, 'metadata', 'ownerReferences')
    .map(asRecord)
    .find((ref) => field(ref, 'controller') === true);
  if (owner === undefined) return undefined;
  const kind = stringField(owner, 'kind');
  return {
    kind,
    name: stringField(owner, 'name'),
    uid: stringField(owner, 'uid'),
    groupKind: groupKind(stringField(owner, 'apiVersion'), kind),
  };
}

/** Users the policy names as workload controllers (`spec.trust`), e.g. an Argo Rollouts account. */
export function isConfiguredController(user: UserInfo, policy: Policy): boolean {
  return (
    policy.trust.controllerUsers.includes(user.username) ||
    user.groups.some((group) => policy.trust.controllerGroups.includes(group))
  );
}

/** Identities that run workload controllers: what they write is the workload scaling or healing. */
export function isControllerIdentity(user: UserInfo, policy: Policy): boolean {
  return BUILT_IN_CONTROLLERS.has(user.username) || isConfiguredController(user, policy);
}

/**
 * The owner this write is judged at, or undefined when it is judged as written: the controller
 * ownerReference counts only for a controller identity, and for a built-in one only where that
 * controller creates such objects (Pod ← ReplicaSet, ..., ReplicaSet ← Deployment, Job ← CronJob).
 */
export function judgedAtOwner(
  input: AdmissionInput,
  object: KubeObject,
  policy: Policy,
): ControllerRef | undefined {
  const owner = controllerRefOf(object);
  if (owner === undefined || owner.name === '') return undefined;
  if (isConfiguredController(input.user, policy)) return owner;
  const pairs = JUDGED_AT.get(input.user.username);
  return pairs?.has(`${input.kind} ← ${owner.groupKind}`) === true ? owner : undefined;
}

/** The object's owners, when its controller ownerReference is trusted (see RuleTarget.owners). */
export function trustedOwners(
  input: AdmissionInput,
  object: KubeObject,
  ctx: EvaluationContext,
): RuleTarget['owners'] {
  return judgedAtOwner(input, object, ctx.policy) === undefined ? [] : ownersOf(object);
}
