import type { Rule } from '../engine/types.ts';

// TODO(issue 3): metadata only; the check and the docs are still to be written.
export const npWorldEgress: Rule = {
  id: 'NP004',
  name: 'world-egress',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'deny' },
  judges: 'object',
  doc: { checks: '', prevents: '', fix: '', fires: '', passes: '' },
  check: () => [],
};
