import type { NetworkPolicySettings } from '../config/policy.ts';
import {
  ALLOW_DNS_ANNOTATION,
  ALLOW_DNS_POLICY,
  ALLOW_SAME_NAMESPACE_POLICY,
  BASELINE_POLICY_NAMES,
  DEFAULT_DENY_ANNOTATION,
  DEFAULT_DENY_POLICY,
  MANAGED_BY_LABEL,
  MANAGED_BY_NETGUARD,
} from '../vocabulary.ts';
import type { KubeObject, Mode } from '../vocabulary.ts';
import { baselineAnnotations, policyTypesOf } from './baseline-annotations.ts';

export {
  ALLOW_DNS_POLICY,
  ALLOW_SAME_NAMESPACE_POLICY,
  DEFAULT_DENY_POLICY,
  BASELINE_POLICY_NAMES,
};

/** A baseline NetworkPolicy the controller keeps; `deny` marks the one that isolates (created last, removed first). */
export interface DesiredPolicy {
  readonly name: string;
  readonly deny: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: KubeObject;
}

export const MANAGED_LABELS: Readonly<Record<string, string>> = {
  [MANAGED_BY_LABEL]: MANAGED_BY_NETGUARD,
};

export function isManagedPolicy(labels: Readonly<Record<string, string>>): boolean {
  return labels[MANAGED_BY_LABEL] === MANAGED_BY_NETGUARD;
}

/** Only the two words Kubernetes knows, in its order; a typo ("Ingres") isolates nothing rather than guessing. */
export function deniedTypes(annotation: string | undefined): ('Ingress' | 'Egress')[] {
  const words = policyTypesOf(annotation);
  return (['Ingress', 'Egress'] as const).filter((type) => words.has(type));
}

function allowDns(dns: NetworkPolicySettings['dns']): KubeObject {
  return {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': dns.namespace } },
            podSelector: { matchLabels: { ...dns.podLabels } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ],
  };
}

const allowSameNamespace = (): KubeObject => ({
  podSelector: {},
  policyTypes: ['Ingress'],
  ingress: [{ from: [{ podSelector: {} }] }],
});

const defaultDeny = (types: readonly string[]): KubeObject => ({
  podSelector: {},
  policyTypes: [...types],
});

/**
 * The baseline a namespace's annotations ask for, allow policies first and the deny policy last.
 * - `netguard-default-deny` with the annotated policyTypes.
 * - `netguard-allow-dns` when `allow-dns: "true"` and Egress is denied. A policy of type Egress
 *   isolates every pod it selects for egress, so creating it while only Ingress is denied would
 *   cut all other egress: it exists exactly when it opens something.
 * - `netguard-allow-same-namespace` when only Ingress is denied (constrain: the namespace boundary
 *   is closed, traffic inside it keeps flowing).
 */
export function desiredBaseline(
  annotations: Readonly<Record<string, string>>,
  dns: NetworkPolicySettings['dns'],
): DesiredPolicy[] {
  const types = deniedTypes(annotations[DEFAULT_DENY_ANNOTATION]);
  const desired: DesiredPolicy[] = [];
  if (annotations[ALLOW_DNS_ANNOTATION] === 'true' && types.includes('Egress')) {
    desired.push({
      name: ALLOW_DNS_POLICY,
      deny: false,
      labels: MANAGED_LABELS,
      spec: allowDns(dns),
    });
  }
  if (types.length === 1 && types[0] === 'Ingress') {
    desired.push({
      name: ALLOW_SAME_NAMESPACE_POLICY,
      deny: false,
      labels: MANAGED_LABELS,
      spec: allowSameNamespace(),
    });
  }
  if (types.length > 0)
    desired.push({
      name: DEFAULT_DENY_POLICY,
      deny: true,
      labels: MANAGED_LABELS,
      spec: defaultDeny(types),
    });
  return desired;
}

/**
 * The stricter of a namespace's annotations and the baseline of `mode`: policy types joined, DNS
 * allowed when either asks. Read, never written back: the Namespace keeps its own annotations.
 */
export function atLeastBaselineOf(
  annotations: Readonly<Record<string, string>>,
  mode: Mode | undefined,
): Readonly<Record<string, string>> {
  if (mode === undefined) return annotations;
  const floor = baselineAnnotations(mode);
  const types = new Set([
    ...deniedTypes(annotations[DEFAULT_DENY_ANNOTATION]),
    ...deniedTypes(floor[DEFAULT_DENY_ANNOTATION]),
  ]);
  if (types.size === 0) return annotations;
  const dns =
    annotations[ALLOW_DNS_ANNOTATION] === 'true' || floor[ALLOW_DNS_ANNOTATION] === 'true';
  return {
    ...annotations,
    [DEFAULT_DENY_ANNOTATION]: (['Ingress', 'Egress'] as const)
      .filter((t) => types.has(t))
      .join(','),
    ...(dns ? { [ALLOW_DNS_ANNOTATION]: 'true' } : {}),
  };
}

export function networkPolicyObject(
  namespace: string,
  policy: DesiredPolicy,
  resourceVersion?: string,
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: policy.name,
      namespace,
      labels: { ...policy.labels },
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    spec: policy.spec,
  };
}
