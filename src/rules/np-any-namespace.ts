import type { Rule } from '../engine/types.ts';

// TODO(issue 3): metadata only; the check and the docs are still to be written.
export const npAnyNamespace: Rule = {
  id: 'NP003',
  name: 'any-namespace',
  kinds: ['NetworkPolicy'],
  operations: ['CREATE', 'UPDATE'],
  levels: { observe: 'warn', constrain: 'deny', enforce: 'deny' },
  judges: 'object',
  doc: { checks: '', prevents: '', fix: '', fires: '', passes: '' },
  check: () => [],
};
