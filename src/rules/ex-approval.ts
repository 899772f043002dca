import type { Rule } from '../engine/types.ts';

// TODO(issue 4): metadata only; the check and the docs are still to be written.
export const exApproval: Rule = {
  id: 'EX004',
  name: 'exception-approval',
  kinds: ['GuardrailException'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'deny', constrain: 'deny', enforce: 'deny' },
  judges: 'change',
  doc: { checks: '', prevents: '', fix: '', fires: '', passes: '' },
  check: () => [],
};
