import type { Rule } from '../engine/types.ts';

// TODO(issue 3): metadata only; the check and the docs are still to be written.
export const npAllowAll: Rule = {
  id: 'NP002',
  name: 'allow-all',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: { checks: '', prevents: '', fix: '', fires: '', passes: '' },
  check: () => [],
};
