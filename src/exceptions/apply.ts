import type { Environment } from '../config/policy.ts';
import type { Finding, RuleTarget, WaiverView } from '../engine/types.ts';
import { NETGUARD_NAMESPACE } from '../vocabulary.ts';
import { expiryProblem } from './checks.ts';
import { waiverCoversTarget, waiverScope } from './matching.ts';
import { daysLeft, daysLeftText, expiryDate, waiverState, type WaiverState } from './state.ts';
import { waiverLabel, waiverRef, type Waiver } from './waiver.ts';

/** Waivers for one namespace, from memory. */
export type WaiverLookup = (namespace: string) => readonly Waiver[];

interface Candidate {
  readonly waiver: Waiver;
  readonly state: WaiverState | 'rejected';
  readonly rejected: readonly string[];
}

/**
 * Its state, or rejected: failing EX002/EX003 as parsed, or EX001's limit in the environment it is
 * held to (a Namespace waiver: the one selector and name give, never the namespace's own label).
 */
function candidateOf(
  waiver: Waiver,
  environment: Environment,
  now: Date,
  warnBeforeMs: number,
): Candidate {
  const expiry = expiryProblem(waiver, environment, now);
  const rejected = expiry === undefined ? waiver.rejected : [...waiver.rejected, expiry];
  return {
    waiver,
    state: rejected.length > 0 ? 'rejected' : waiverState(waiver, now, warnBeforeMs),
    rejected,
  };
}

const heldTo = (target: RuleTarget): Environment =>
  target.kind === 'Namespace' ? target.baseEnvironment : target.environment;

const usable = (candidate: Candidate): boolean =>
  candidate.state === 'active' || candidate.state === 'expiring';

function laterFirst(a: Candidate, b: Candidate): number {
  return (
    b.waiver.expiresAt - a.waiver.expiresAt ||
    waiverLabel(a.waiver).localeCompare(waiverLabel(b.waiver))
  );
}

/** The extra warning a waiver near its end adds, once per decision. */
function expiryWarning(waiver: Waiver, rules: readonly string[], now: Date): Finding {
  return {
    rule: 'EX001',
    name: 'exception-expiry',
    level: 'warn',
    path: `waiver ${waiverLabel(waiver)}`,
    message: `expires on ${expiryDate(waiver)} (${daysLeftText(daysLeft(waiver, now))}); after that ${rules.join(', ')} is enforced again.`,
    fix: 'Fix what it waives, or have a new waiver approved before then.',
    notes: [],
  };
}

/** Explains, on a denial, why the waivers that match did not waive it. */
function unusableNotes(candidates: readonly Candidate[]): string[] {
  return candidates.map(({ waiver, state, rejected }) => {
    if (state === 'rejected')
      return `waiver ${waiverLabel(waiver)} is rejected: ${rejected.join('; ')}`;
    return state === 'expired'
      ? `waiver ${waiverLabel(waiver)} expired on ${expiryDate(waiver)}`
      : `waiver ${waiverLabel(waiver)} awaits approval`;
  });
}

/**
 * The registry's side of the engine contract. For every finding a matching waiver lists:
 * an active or expiring approved waiver turns a deny into a warning (a warning stays one) and records
 * itself in `waivedBy`; an expiring one adds an EX001 warning; expired and pending waivers leave a
 * deny as it is and say why they did not count. EX findings are never waived: they guard the waivers.
 */
export function waiverView(lookup: WaiverLookup, warnBeforeMs: number): WaiverView {
  return {
    apply(findings: Finding[], target: RuleTarget, now: Date): void {
      const scoped = lookup(waiverScope(target));
      if (scoped.length === 0) return;
      const candidates = scoped
        .filter((waiver) => waiverCoversTarget(waiver, target))
        .map((waiver) => candidateOf(waiver, heldTo(target), now, warnBeforeMs))
        .sort(laterFirst);
      if (candidates.length === 0) return;
      const expiring = new Map<Waiver, string[]>();
      for (const finding of [...findings]) {
        if (finding.rule.startsWith('EX')) continue;
        const matching = candidates.filter((candidate) => candidate.waiver.rules.has(finding.rule));
        const chosen = matching.find(usable);
        if (chosen === undefined) {
          if (finding.level !== 'deny') continue;
          finding.notes.push(...unusableNotes(matching));
          // A pending waiver (a renewal, say) is the next step; an expired one, if none is pending.
          const pending = matching.find((candidate) => candidate.state === 'pending');
          const expired = matching.find((candidate) => candidate.state === 'expired');
          if (pending !== undefined) finding.pendingWaiver = waiverRef(pending.waiver);
          else if (expired !== undefined) {
            const ref = waiverRef(expired.waiver);
            const { source } = expired.waiver;
            finding.expiredWaiver = {
              ...ref,
              renewal: (maxDuration) => source.renewal(ref, maxDuration),
            };
          }
          continue;
        }
        const { waiver } = chosen;
        finding.level = 'warn';
        finding.waivedBy = waiverRef(waiver);
        finding.notes.push(
          `waived by ${waiverLabel(waiver)} until ${expiryDate(waiver)} (${daysLeftText(daysLeft(waiver, now))})`,
        );
        if (chosen.state === 'expiring') {
          const rules = expiring.get(waiver) ?? [];
          if (!rules.includes(finding.rule)) rules.push(finding.rule);
          expiring.set(waiver, rules);
        }
      }
      for (const [waiver, rules] of expiring) findings.push(expiryWarning(waiver, rules, now));
    },
    lapsedRules(target: RuleTarget, now: Date): ReadonlySet<string> {
      const lapsed = new Set<string>();
      for (const waiver of lookup(waiverScope(target))) {
        if (
          waiver.expiresAt > now.getTime() ||
          !waiver.approved ||
          !waiverCoversTarget(waiver, target)
        )
          continue;
        for (const rule of waiver.rules) lapsed.add(rule);
      }
      return lapsed;
    },
    namespaceWaiver(namespace, rule, base, now) {
      const found = lookup(NETGUARD_NAMESPACE)
        .filter(
          (waiver) =>
            waiver.target.kind === 'Namespace' &&
            waiver.target.name === namespace &&
            waiver.rules.has(rule),
        )
        .map((waiver) => candidateOf(waiver, base, now, warnBeforeMs))
        .filter(usable)
        .sort(laterFirst)[0];
      return found === undefined ? undefined : waiverRef(found.waiver);
    },
  };
}
