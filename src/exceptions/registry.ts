import type { WaiverView } from '../engine/types.ts';
import { waiverView } from './apply.ts';
import { countWaiversByState, type WaiverState } from './state.ts';
import type { Waiver } from './waiver.ts';

/** Waivers from one source, indexed by namespace once, so a review reads a map entry. */
export interface WaiverSet {
  readonly waivers: readonly Waiver[];
  inNamespace(namespace: string): readonly Waiver[];
}

export function waiverSet(waivers: readonly Waiver[]): WaiverSet {
  const byNamespace = new Map<string, Waiver[]>();
  for (const waiver of waivers) {
    const list = byNamespace.get(waiver.namespace);
    if (list === undefined) byNamespace.set(waiver.namespace, [waiver]);
    else list.push(waiver);
  }
  return { waivers, inNamespace: (namespace) => byNamespace.get(namespace) ?? [] };
}

/** A source's current set: the watched file's last good version, or the CRD cache. */
export type WaiverSource = () => WaiverSet;

/** The one registry the webhook, `check`, `audit` and `exception list` read, so they never disagree. */
export interface ExceptionRegistry {
  all(): readonly Waiver[];
  inNamespace(namespace: string): readonly Waiver[];
  /** The engine's WaiverView, with the policy's `exceptions.warnBefore`. */
  view(warnBeforeMs: number): WaiverView;
  /** Waiver counts per state (every state present), for the metrics endpoint. */
  countsByState(now: Date, warnBeforeMs: number): Record<WaiverState, number>;
}

export function createRegistry(sources: readonly WaiverSource[]): ExceptionRegistry {
  const inNamespace = (namespace: string): readonly Waiver[] => {
    if (sources.length === 1) return sources[0]?.().inNamespace(namespace) ?? [];
    return sources.flatMap((source) => source().inNamespace(namespace));
  };
  const all = (): readonly Waiver[] => sources.flatMap((source) => source().waivers);
  return {
    all,
    inNamespace,
    view: (warnBeforeMs) => waiverView(inNamespace, warnBeforeMs),
    countsByState: (now, warnBeforeMs) => countWaiversByState(all(), now, warnBeforeMs),
  };
}
