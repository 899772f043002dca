import type { Rule } from '../engine/types.ts';

// TODO(issue 3): metadata only; the check and the docs are still to be written.
export const npAndOrConfusion: Rule = {
  id: 'NP007',
  name: 'and-or-confusion',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'warn', enforce: 'warn' },
  judges: 'object',
  doc: { checks: '', prevents: '', fix: '', fires: '', passes: '' },
  check: () => [],
};
