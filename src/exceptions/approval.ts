import { field, stringField } from '../object-access.ts';
import type { UserInfo } from '../engine/types.ts';
import type { KubeObject } from '../vocabulary.ts';

export const requestedByOf = (object: KubeObject | undefined): string =>
  stringField(object, 'spec', 'requestedBy').trim();
export const approvedByOf = (object: KubeObject | undefined): string =>
  stringField(object, 'spec', 'approvedBy').trim();

export function isApprover(user: UserInfo, approverGroups: readonly string[]): boolean {
  return user.groups.some((group) => approverGroups.includes(group));
}

/**
 * Whether an UPDATE asks for more than was approved: a later (or unreadable) expiry, a rule that
 * was not listed, or a different target. Narrowing, or editing reason, owner or ticket, is not.
 */
export function widens(oldObject: KubeObject, newObject: KubeObject): boolean {
  const before = Date.parse(stringField(oldObject, 'spec', 'expires'));
  const after = Date.parse(stringField(newObject, 'spec', 'expires'));
  if (Number.isNaN(after) || !(after <= before)) return true;
  const oldRules = new Set(rulesOf(oldObject));
  if (rulesOf(newObject).some((rule) => !oldRules.has(rule))) return true;
  return (
    JSON.stringify(field(oldObject, 'spec', 'target') ?? null) !==
    JSON.stringify(field(newObject, 'spec', 'target') ?? null)
  );
}

function rulesOf(object: KubeObject): string[] {
  const rules = field(object, 'spec', 'rules');
  return Array.isArray(rules) ? rules.filter((rule) => typeof rule === 'string') : [];
}

/** An approval that stands in this very request: set by an approver, in their own name, who did not request it. */
export function approvalByThisUser(
  approvedBy: string,
  requestedBy: string,
  user: UserInfo,
  approverGroups: readonly string[],
): boolean {
  return (
    approvedBy !== '' &&
    approvedBy === user.username &&
    approvedBy !== requestedBy &&
    isApprover(user, approverGroups)
  );
}
