import type { Rule } from '../engine/types.ts';

// TODO(issue 3): metadata only; the check and the docs are still to be written.
export const npBaselineTamper: Rule = {
  id: 'NP011',
  name: 'baseline-tamper',
  kinds: ['NetworkPolicy'],
  operations: ['UPDATE', 'DELETE'],
  levels: { observe: 'deny', constrain: 'deny', enforce: 'deny' },
  judges: 'change',
  doc: { checks: '', prevents: '', fix: '', fires: '', passes: '' },
  check: () => [],
};
