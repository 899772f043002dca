import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/vocabulary.ts';
import { renderRulesDoc, RULES_DOC_PATH } from '../../src/rules/docs.ts';
import { RULES } from '../../src/rules/registry.ts';
import { defaultLevelsPolicy, findingsOf, judge } from './judge.ts';

t.test(
  'docs/rules.md is generated from the registry and up to date (run `npm run docs`)',
  async (t) => {
    t.equal(readFileSync(RULES_DOC_PATH, 'utf8'), renderRulesDoc(RULES));
  },
);

t.test('every rule has a section; rules without docs get a placeholder', async (t) => {
  const doc = renderRulesDoc(RULES);
  for (const rule of RULES) t.match(doc, `\n## ${rule.id} ${rule.name}\n`, rule.id);
  const undocumented = {
    ...RULES[0],
    id: 'XX999',
    name: 'pending',
    doc: { checks: '', prevents: '', fix: '', fires: '', passes: '' },
  };
  t.match(
    renderRulesDoc([undocumented as (typeof RULES)[number]]),
    '## XX999 pending\n\nJudges Pod, Deployment',
  );
  t.match(renderRulesDoc([undocumented as (typeof RULES)[number]]), '_Not documented yet._');
});

const single = (manifest: string): KubeObject => {
  const [doc] = parseAllDocuments(manifest);
  return doc?.toJS() as KubeObject;
};

t.test("each NetworkPolicy rule's documented examples do what the docs say", async (t) => {
  const policy = defaultLevelsPolicy();
  for (const rule of RULES.filter(
    // NP013's example would be a thousand peers long; test/rules/np013-size-bound.test.ts has it.
    (r) => r.id.startsWith('NP') && r.operations.includes('CREATE') && r.doc.fires !== '',
  )) {
    const fires = single(rule.doc.fires);
    const namespace = String((fires['metadata'] as { namespace: string }).namespace);
    t.ok(
      findingsOf(judge(fires, { namespace, policy }), rule.id).length > 0,
      `${rule.id}: the "fires" example fires it`,
    );
    const passes = judge(single(rule.doc.passes), { namespace, policy });
    t.same(
      passes.findings.map((finding) => `${finding.rule} ${finding.path}`),
      [],
      `${rule.id}: the "passes" example has no findings at all`,
    );
  }
});

t.test('NP011 is documented with a baseline policy and the namespace route', async (t) => {
  const rule = RULES.find((r) => r.id === 'NP011');
  t.match(rule?.doc.fires, 'app.kubernetes.io/managed-by: netguard');
  t.match(rule?.doc.passes, 'kind: Namespace');
});
