import type { JsonPatchOperation as PatchOperation } from '../engine/types.ts';
import { asRecord, field, stringField } from '../object-access.ts';
import { OWNER_ANNOTATION, type Operation } from '../vocabulary.ts';
import { EXCEPTION_KIND } from '../model/guardrail-exception.ts';
import type { AdmissionInput, EvaluationContext } from '../engine/types.ts';
import { approvalByThisUser, approvedByOf, requestedByOf, widens } from '../exceptions/approval.ts';

export interface ExceptionMutation {
  readonly patch: PatchOperation[];
  readonly warnings: string[];
}

/**
 * GuardrailException CREATE/UPDATE (EX004):
 * - CREATE: `spec.requestedBy` becomes the request's username, whatever the object said.
 * - UPDATE: `spec.requestedBy` stays the original requester (or becomes the updater if it was never set).
 * - UPDATE that widens an approved waiver (later expiry, added rule, other target) while leaving
 *   `spec.approvedBy` as it was: the approval is removed, so the waiver is pending again — unless the
 *   person making the change is an approver who signs the approval in their own name and is not the requester.
 * - CREATE without `spec.owner`: the owner becomes the namespace's `netguard.dev/owner` annotation
 *   (for a Namespace waiver, that of the namespace it covers), else the requester.
 * Everything else (who may set `approvedBy`) is judged by EX004 at /validate, after this patch.
 */
/** What the bookkeeping changes at /mutate: GuardrailExceptions, as they are created and updated. */
export const BOOKKEEPING = {
  kind: EXCEPTION_KIND,
  operations: ['CREATE', 'UPDATE'],
} as const satisfies { kind: string; operations: readonly Operation[] };

export function mutateGuardrailException(
  input: AdmissionInput,
  ctx: EvaluationContext,
): ExceptionMutation {
  const object = input.object;
  if (
    object === undefined ||
    asRecord(field(object, 'spec')) === undefined ||
    !BOOKKEEPING.operations.some((operation) => operation === input.operation)
  ) {
    return { patch: [], warnings: [] };
  }
  const old = input.operation === 'UPDATE' ? input.oldObject : undefined;
  const requester = (old === undefined ? '' : requestedByOf(old)) || input.user.username;
  const patch: PatchOperation[] = [];
  const warnings: string[] = [];
  const current = requestedByOf(object);
  if (requester !== '' && current !== requester) {
    const present = field(object, 'spec', 'requestedBy') !== undefined;
    patch.push({ op: present ? 'replace' : 'add', path: '/spec/requestedBy', value: requester });
    if (current !== '')
      warnings.push(
        `netguard EX004: spec.requestedBy: set to ${requester} (the requester), not ${JSON.stringify(current).slice(0, 80)}`,
      );
  }
  if (old === undefined) patch.push(...defaultOwner(input, ctx, requester));
  const approvedBy = approvedByOf(object);
  if (
    old !== undefined &&
    approvedBy !== '' &&
    approvedBy === approvedByOf(old) &&
    widens(old, object) &&
    !approvalByThisUser(approvedBy, requester, input.user, ctx.policy.exceptions.approverGroups)
  ) {
    patch.push({ op: 'remove', path: '/spec/approvedBy' });
    warnings.push(
      `netguard EX004: spec.approvedBy: approval by ${approvedBy} removed; the waiver now asks for more, so it is pending until approved again`,
    );
  }
  return { patch, warnings };
}

/**
 * The owner a request left out: the annotation of the namespace the waiver covers, else the
 * requester. Here rather than in the CLI: the webhook sees the authenticated user and the namespace
 * cache, where the CLI may not be allowed to read Namespaces and a kubeconfig user name is not an identity.
 */
function defaultOwner(
  input: AdmissionInput,
  ctx: EvaluationContext,
  requester: string,
): PatchOperation[] {
  const object = input.object;
  const owner = field(object, 'spec', 'owner');
  if (typeof owner === 'string' && owner.trim() !== '') return [];
  const covered =
    stringField(object, 'spec', 'target', 'kind') === 'Namespace'
      ? stringField(object, 'spec', 'target', 'name')
      : input.namespace;
  const annotated = (ctx.cluster.namespace(covered)?.annotations[OWNER_ANNOTATION] ?? '').trim();
  const value = annotated || requester;
  if (value === '') return [];
  return [{ op: owner === undefined ? 'add' : 'replace', path: '/spec/owner', value }];
}
