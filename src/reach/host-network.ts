import { detectCni } from '../cni.ts';
import type { KubeObject } from '../vocabulary.ts';
import type { Endpoint, SideVerdict, Verdict } from './model.ts';

/**
 * Whether NetworkPolicy applies to hostNetwork pods, as far as the input tells: Kubernetes leaves
 * it to the CNI. Cilium and Calico apply it only to host endpoints they are told about (Cilium's
 * host firewall, Calico HostEndpoints); `undefined` when the CNI is unknown or host endpoints exist.
 */
export type HostNetworkPolicy = { readonly governed: false; readonly cni: string } | undefined;

export function hostNetworkPolicy(objects: readonly KubeObject[]): HostNetworkPolicy {
  const daemonSets = objects.filter((o) => o['kind'] === 'DaemonSet');
  const found = detectCni(daemonSets).found.map((entry) => entry.name);
  const hostEndpoints = objects.some((o) => o['kind'] === 'HostEndpoint');
  const cni = found.find((name) => name === 'Cilium' || (name === 'Calico' && !hostEndpoints));
  return cni === undefined ? undefined : { governed: false, cni };
}

/** The answer for a question with a hostNetwork pod at either end, and what it rests on. */
export interface HostNetworkAnswer {
  readonly workloads: readonly string[];
  readonly answer: 'not governed by NetworkPolicy on this CNI' | 'undefined by Kubernetes';
  readonly cni?: string | undefined;
  /** The verdict if the CNI applies NetworkPolicy to host-network pods (undefined by Kubernetes only). */
  readonly ifApplied?: boolean | undefined;
  /** The verdict if it does not. */
  readonly ifNotApplied: boolean;
}

/**
 * Re-answers a verdict whose src or dst is a hostNetwork pod: on a CNI that does not govern them
 * that side is open; otherwise both outcomes are given and `allowed` stays the policies' answer.
 */
export function answerForHostNetwork(
  verdict: Verdict,
  src: Endpoint,
  dst: Endpoint,
  policy: HostNetworkPolicy,
): { verdict: Verdict; hostNetwork: HostNetworkAnswer | undefined } {
  const hostSrc = src.kind === 'workload' && src.hostNetwork;
  const hostDst = dst.kind === 'workload' && dst.hostNetwork;
  if (!hostSrc && !hostDst) return { verdict, hostNetwork: undefined };
  const open: SideVerdict = {
    allowed: true,
    policies: [],
    note: `a host-network pod${policy === undefined ? '' : `: NetworkPolicy does not govern it on ${policy.cni}`}`,
  };
  const egress = hostSrc ? open : verdict.egress;
  const ingress = hostDst ? open : verdict.ingress;
  const opened: Verdict = { allowed: egress.allowed && ingress.allowed, egress, ingress };
  const workloads = [hostSrc ? src.id : '', hostDst ? dst.id : ''].filter((id) => id !== '');
  if (policy !== undefined)
    return {
      verdict: opened,
      hostNetwork: {
        workloads,
        answer: 'not governed by NetworkPolicy on this CNI',
        cni: policy.cni,
        ifNotApplied: opened.allowed,
      },
    };
  return {
    verdict,
    hostNetwork: {
      workloads,
      answer: 'undefined by Kubernetes',
      ifApplied: verdict.allowed,
      ifNotApplied: opened.allowed,
    },
  };
}
