import {
  ALLOW_DNS_ANNOTATION,
  BASELINE_ANNOTATION,
  DEFAULT_DENY_ANNOTATION,
  type Mode,
} from '../vocabulary.ts';

/** The annotations NS001 gives a new namespace in each mode; the controller turns them into NetworkPolicies. */
export function baselineAnnotations(mode: Mode): Record<string, string> {
  switch (mode) {
    case 'enforce':
      return { [DEFAULT_DENY_ANNOTATION]: 'Ingress,Egress', [ALLOW_DNS_ANNOTATION]: 'true' };
    case 'constrain':
      return { [DEFAULT_DENY_ANNOTATION]: 'Ingress', [ALLOW_DNS_ANNOTATION]: 'true' };
    case 'observe':
      return { [BASELINE_ANNOTATION]: 'observe' };
  }
}

/** `Ingress,Egress` → {Ingress, Egress}; unknown words are kept so a typo never reads as stronger. */
export function policyTypesOf(value: string | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((word) => word.trim())
      .filter((word) => word !== ''),
  );
}
