import type { Rule } from '../engine/types.ts';

// TODO(issue 4): metadata only; the check and the docs are still to be written.
export const exExpiry: Rule = {
  id: 'EX001',
  name: 'exception-expiry',
  kinds: ['GuardrailException'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'deny', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: { checks: '', prevents: '', fix: '', fires: '', passes: '' },
  check: () => [],
};
