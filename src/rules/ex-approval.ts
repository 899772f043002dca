import type { RawFinding, Rule } from '../engine/types.ts';
import { stringField } from '../object-access.ts';
import {
  approvalByThisUser,
  approvedByOf,
  isApprover,
  requestedByOf,
  widens,
} from '../exceptions/approval.ts';

export const exApproval: Rule = {
  id: 'EX004',
  name: 'exception-approval',
  kinds: ['GuardrailException'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'deny', constrain: 'deny', enforce: 'deny' },
  judges: 'change',
  doc: {
    checks:
      "The mutating webhook sets `spec.requestedBy` from the request's userInfo (on CREATE; an UPDATE keeps the original requester), so this rule denies a requester that does not match. `spec.approvedBy` may be set or changed only by a member of `exceptions.approverGroups`, in their own name, and never by the requester. An UPDATE that widens an approved waiver (a later expiry, an added rule, another target) needs approval again: the mutating webhook removes `approvedBy`, and this rule denies the update if it was kept without a fresh approval.",
    prevents:
      "Self-approved waivers, approvals forged in someone else's name, and an approved two-week waiver quietly stretched to a year.",
    fix: 'Request the waiver without `approvedBy` (`netguard exception request ... --apply`), then ask a member of the approver groups to run `netguard exception approve -n NAMESPACE NAME`, which signs it in their own name.',
    fires: `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: crawler-egress, namespace: prod-crawl}
spec:
  rules: [NP004]
  target: {kind: NetworkPolicy, name: crawler-egress}
  reason: Vendor API has no fixed addresses until the Q1 migration
  owner: team-crawl@example.com
  expires: "2026-12-06T00:00:00Z"
  approvedBy: alice@example.com   # created (and so requested) by alice herself
`,
    passes: `apiVersion: netguard.dev/v1alpha1
kind: GuardrailException
metadata: {name: crawler-egress, namespace: prod-crawl}
spec:
  rules: [NP004]
  target: {kind: NetworkPolicy, name: crawler-egress}
  reason: Vendor API has no fixed addresses until the Q1 migration
  owner: team-crawl@example.com
  expires: "2026-12-06T00:00:00Z"
  requestedBy: alice@example.com  # set by netguard
  approvedBy: carol@example.com   # set later by carol, a member of netguard:approvers
`,
  },
  check(target, ctx) {
    const { input, object } = target;
    const old = input.operation === 'UPDATE' ? input.oldObject : undefined;
    const user = input.user;
    const groups = ctx.policy.exceptions.approverGroups;
    const findings: RawFinding[] = [];
    const requestedBy = requestedByOf(object);
    // `check` judges files with no user; the API server always names one.
    const expectedRequester =
      old === undefined ? user.username : requestedByOf(old) || user.username;
    if (expectedRequester !== '' && requestedBy !== expectedRequester) {
      findings.push({
        path: 'spec.requestedBy',
        message: `is ${JSON.stringify(requestedBy)} but the waiver was requested by ${expectedRequester}, and the requester cannot be forged.`,
        fix: 'Leave spec.requestedBy out: netguard sets it (is the netguard mutating webhook installed?).',
      });
    }
    const approvedBy = approvedByOf(object);
    const before = approvedByOf(old);
    const approve = `netguard exception approve -n ${target.namespace.name} ${stringField(object, 'metadata', 'name')}`;
    const approvalFix = `Leave spec.approvedBy out and ask a member of ${groups.join(', ')} other than the requester to run ${approve}.`;
    if (
      approvedBy !== '' &&
      approvedBy !== before &&
      !approvalByThisUser(approvedBy, requestedBy, user, groups)
    ) {
      const why =
        approvedBy === requestedBy || user.username === requestedBy
          ? 'the requester cannot approve their own waiver'
          : !isApprover(user, groups)
            ? `${user.username || 'this user'} is not in the approver groups (${groups.join(', ')})`
            : `an approver signs only in their own name (${user.username})`;
      findings.push({
        path: 'spec.approvedBy',
        message: `cannot be set to ${JSON.stringify(approvedBy)}: ${why}.`,
        fix: approvalFix,
      });
    } else if (
      old !== undefined &&
      approvedBy !== '' &&
      approvedBy === before &&
      widens(old, object) &&
      !approvalByThisUser(approvedBy, requestedBy, user, groups)
    ) {
      findings.push({
        path: 'spec.approvedBy',
        message: `still says ${JSON.stringify(approvedBy)} but the waiver now asks for more than was approved (a later expiry, a new rule or another target).`,
        fix: `Remove spec.approvedBy; the change needs approval again. ${approvalFix}`,
      });
    }
    return findings;
  },
};
