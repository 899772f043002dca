/** `networkPolicies.limits`: NP013's bounds on the items one policy may hold. */
export interface SizeLimits {
  readonly rules: number;
  readonly peers: number;
  readonly ports: number;
  readonly values: number;
}

/** NP013's defaults (DESIGN "One meaning of a NetworkPolicy"). */
export const DEFAULT_LIMITS: SizeLimits = { rules: 1000, peers: 1000, ports: 1000, values: 10000 };
