import t from 'tap';
import { REALISTIC, REALISTIC_DIR, type Outcome } from '../rules/realistic-expected.ts';
import { LAB_POLICY } from '../helpers/context.ts';
import { runCheckInProcess } from './run-check.ts';

interface JsonResult {
  name: string;
  namespace: string;
  verdict: 'allowed' | 'denied';
  findings: { rule: string; level: string }[];
}

const ENVIRONMENTS = {
  observe: 'development',
  constrain: 'staging',
  enforce: 'production',
} as const;

t.test(
  'netguard check over the realistic set prints the verdicts docs/verdicts.md states',
  async (t) => {
    for (const [mode, environment] of Object.entries(ENVIRONMENTS) as [
      keyof typeof ENVIRONMENTS,
      string,
    ][]) {
      const run = await runCheckInProcess([
        '-f',
        REALISTIC_DIR,
        '--config',
        LAB_POLICY,
        '--environment',
        environment,
        '-o',
        'json',
      ]);
      const expectDenied = REALISTIC.some((c) => c.outcomes[mode] === 'denied');
      t.equal(run.code, expectDenied ? 1 : 0, `${environment}: exit code`);
      const results: JsonResult[] = run.json().results;
      t.equal(results.length, REALISTIC.length, `${environment}: one result per object`);
      for (const c of REALISTIC) {
        const namespace = c.file.slice(0, 2);
        const result = results.find(
          (r) => r.name === c.name && r.namespace === `shop-${namespace}`,
        );
        const outcome: Outcome | undefined =
          result === undefined
            ? undefined
            : result.verdict === 'denied'
              ? 'denied'
              : result.findings.length > 0
                ? 'allowed + warnings'
                : 'allowed';
        t.equal(outcome, c.outcomes[mode], `${c.pattern}: ${environment}`);
        t.same(
          [...new Set(result?.findings.map((f) => f.rule))].sort(),
          c.rules,
          `${c.pattern}: rules in ${environment}`,
        );
      }
    }
  },
);
