import type { Waiver } from './waiver.ts';

export type WaiverState = 'active' | 'expiring' | 'expired' | 'pending';
export const WAIVER_STATES: readonly WaiverState[] = ['active', 'expiring', 'expired', 'pending'];

const DAY_MS = 86_400_000;

/**
 * Expired wins (an unapproved waiver past its date is simply over); then pending (waives nothing);
 * then expiring (approved, within warnBefore of its end) or active. The expiry instant itself is expired.
 */
export function waiverState(waiver: Waiver, now: Date, warnBeforeMs: number): WaiverState {
  const left = waiver.expiresAt - now.getTime();
  if (left <= 0) return 'expired';
  if (!waiver.approved) return 'pending';
  return left <= warnBeforeMs ? 'expiring' : 'active';
}

/** Whole days left, rounded up, so the last day reads "1 day left" and never "0 days left"; 0 once expired. */
export function daysLeft(waiver: Waiver, now: Date): number {
  return Math.max(0, Math.ceil((waiver.expiresAt - now.getTime()) / DAY_MS));
}

export function daysLeftText(days: number): string {
  return days === 1 ? '1 day left' : `${days} days left`;
}

/** The date people read: `2026-12-06` at midnight UTC, the full UTC instant otherwise. */
export function expiryDate(waiver: Waiver): string {
  const iso = new Date(waiver.expiresAt).toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : `${iso.slice(0, 19)}Z`;
}

/** Waiver counts per state, every state present (zeros included), for the metrics endpoint and `exception list`. */
export function countWaiversByState(
  waivers: readonly Waiver[],
  now: Date,
  warnBeforeMs: number,
): Record<WaiverState, number> {
  const counts: Record<WaiverState, number> = { active: 0, expiring: 0, expired: 0, pending: 0 };
  for (const waiver of waivers) counts[waiverState(waiver, now, warnBeforeMs)] += 1;
  return counts;
}
