import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import type { Decision } from '../../src/engine/types.ts';
import { loadFixture } from '../helpers/reviews.ts';
import { judge, NAMESPACE_OF, rulesOf } from './judge.ts';
import { REALISTIC, REALISTIC_DIR, verdictTable, type Outcome } from './realistic-expected.ts';

function outcomeOf(decision: Decision): Outcome {
  if (!decision.allowed) return 'denied';
  return decision.findings.length > 0 ? 'allowed + warnings' : 'allowed';
}

t.test('every realistic policy gets the verdict the docs table states, in each mode', async (t) => {
  for (const c of REALISTIC) {
    const documents = loadFixture(`${REALISTIC_DIR}/${c.file}`);
    const index = documents.findIndex(
      (doc) => (doc['metadata'] as { name?: string }).name === c.name,
    );
    const object = documents[index];
    t.ok(object, `${c.file} holds ${c.name}`);
    if (object === undefined) continue;
    const others = documents.filter((_, i) => i !== index);
    for (const mode of ['observe', 'constrain', 'enforce'] as const) {
      const decision = judge(object, { namespace: NAMESPACE_OF[mode], others });
      t.equal(outcomeOf(decision), c.outcomes[mode], `${c.pattern}: ${mode}`);
      t.same(rulesOf(decision), c.rules, `${c.pattern}: rules in ${mode}`);
    }
  }
});

t.test('the realistic set covers every fixture file', async (t) => {
  t.same([...new Set(REALISTIC.map((c) => c.file))].sort(), readdirSync(REALISTIC_DIR).sort());
});

t.test('docs/verdicts.md carries the same table', async (t) => {
  t.ok(
    readFileSync('docs/verdicts.md', 'utf8').includes(`${verdictTable()}\n`),
    'docs/verdicts.md table matches test/rules/realistic-expected.ts',
  );
});
