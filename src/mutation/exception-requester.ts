import type { PatchOperation } from '../admission/json-patch.ts';
import { asRecord, field } from '../object-access.ts';
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
 * Everything else (who may set `approvedBy`) is judged by EX004 at /validate, after this patch.
 */
export function mutateGuardrailException(input: AdmissionInput, ctx: EvaluationContext): ExceptionMutation {
  const object = input.object;
  if (object === undefined || asRecord(field(object, 'spec')) === undefined || (input.operation !== 'CREATE' && input.operation !== 'UPDATE')) {
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
    if (current !== '') warnings.push(`netguard EX004: spec.requestedBy: set to ${requester} (the requester), not ${JSON.stringify(current).slice(0, 80)}`);
  }
  const approvedBy = approvedByOf(object);
  if (
    old !== undefined &&
    approvedBy !== '' &&
    approvedBy === approvedByOf(old) &&
    widens(old, object) &&
    !approvalByThisUser(approvedBy, requester, input.user, ctx.policy.exceptions.approverGroups)
  ) {
    patch.push({ op: 'remove', path: '/spec/approvedBy' });
    warnings.push(`netguard EX004: spec.approvedBy: approval by ${approvedBy} removed; the waiver now asks for more, so it is pending until approved again`);
  }
  return { patch, warnings };
}
