import { verdictOf, type Expectation } from './verify-reply.ts';
import type { Case, Scenario, Verdict } from './scenarios.ts';
import { bodyWithUid } from './review-bodies.ts';
import { connectionPool } from './load.ts';

export interface CaseExpectation {
  readonly expect: Expectation;
  /** Set when netguard's answer differs from DESIGN.md. */
  readonly note?: string;
}

export type Expectations = ReadonlyMap<string, CaseExpectation>;

const verdict = (allowed: boolean | undefined): Verdict | 'no verdict' =>
  allowed === undefined ? 'no verdict' : allowed ? 'allowed' : 'denied';

function judge(item: Case, allowed: boolean | undefined, patch: boolean): CaseExpectation {
  const design: Expectation = { allowed: item.expected === 'allowed', patch: item.patch };
  if (allowed === design.allowed && patch === design.patch) return { expect: design };
  const answer = `netguard answers ${verdict(allowed)}${item.patch && !patch ? ' without a patch' : ''}, DESIGN.md expects ${item.expected}${item.patch ? ' with a patch' : ''}`;
  if (item.pendingOn !== undefined && allowed !== undefined) {
    // The engine is not there yet: measure it as it is, check consistency against its own answer, and say so.
    return {
      expect: { allowed, patch },
      note: `pending ${item.pendingOn}: ${answer}; replies checked against netguard's answer`,
    };
  }
  return { expect: design, note: `${answer}; counted as wrong verdicts` };
}

/** Sends each case once to netguard and compares its verdict with DESIGN.md before anything is timed. */
export async function probeExpectations(
  origin: string,
  ca: string,
  scenarios: readonly Scenario[],
): Promise<Map<string, CaseExpectation>> {
  const pool = connectionPool(origin, ca, 1);
  const found = new Map<string, CaseExpectation>();
  try {
    for (const item of scenarios.flatMap((scenario) => scenario.cases)) {
      if (found.has(item.id)) continue;
      const { body } = bodyWithUid(item.template);
      const reply = await pool.request({
        path: item.path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const text = await reply.body.text();
      if (reply.statusCode !== 200)
        throw new Error(`probe ${item.id}: HTTP ${reply.statusCode}: ${text.slice(0, 300)}`);
      const { allowed, patch } = verdictOf(text);
      found.set(item.id, judge(item, allowed, patch));
    }
  } finally {
    await pool.close();
  }
  return found;
}
