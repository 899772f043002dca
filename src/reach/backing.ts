/** What backs a proposed rule, as advise reports it beside the proposals. */

/** What backs one proposed rule: the flows it keeps, from whom, and whether it opens more than they were. */
export interface RuleBacking {
  /** `namespace/name` of the proposal. */
  readonly policy: string;
  readonly direction: 'ingress' | 'egress';
  /** The peer, for people: `prod-shop/api`, `160.79.104.10/32`, `the internet (...)`. */
  readonly peer: string;
  readonly ports: string;
  readonly flows: number;
  /** The observed clients (ingress) or servers (egress) behind the rule. */
  readonly observed: readonly string[];
  /** Set when the rule opens more than the observed ends: the internet, or other workloads. */
  readonly opens?: string | undefined;
}

const MAX_LISTED = 5;
/** At most five ids, then how many more. */
export const listed = (ids: readonly string[]): string[] =>
  ids.length <= MAX_LISTED
    ? [...ids]
    : [...ids.slice(0, MAX_LISTED), `${ids.length - MAX_LISTED} more`];
