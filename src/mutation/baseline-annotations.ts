import type { Mode } from '../engine/types.ts';

export const DEFAULT_DENY = 'netguard.dev/default-deny';
export const ALLOW_DNS = 'netguard.dev/allow-dns';
export const BASELINE = 'netguard.dev/baseline';

/** The annotations NS001 gives a new namespace in each mode; the controller turns them into NetworkPolicies. */
export function baselineAnnotations(mode: Mode): Record<string, string> {
  switch (mode) {
    case 'enforce':
      return { [DEFAULT_DENY]: 'Ingress,Egress', [ALLOW_DNS]: 'true' };
    case 'constrain':
      return { [DEFAULT_DENY]: 'Ingress', [ALLOW_DNS]: 'true' };
    case 'observe':
      return { [BASELINE]: 'observe' };
  }
}

/** `Ingress,Egress` → {Ingress, Egress}; unknown words are kept so a typo never reads as stronger. */
export function policyTypesOf(value: string | undefined): Set<string> {
  return new Set((value ?? '').split(',').map((word) => word.trim()).filter((word) => word !== ''));
}
