/**
 * `clusterCIDRs: auto`: the pod and service ranges a cluster really uses, read from the objects
 * the network plugin keeps them in. Pure: the listing is done elsewhere (serve, audit), offline
 * commands have none and say so.
 */
import { parseCidr, type CidrRange } from './cidr.ts';
import { arrayField, field, stringField } from './object-access.ts';
import type { KubeObject } from './vocabulary.ts';

/** One place pod or service ranges live, by group, version and kind. */
export interface RangeSource {
  /** As logs and /readyz name it. */
  readonly name: string;
  readonly apiVersion: string;
  readonly kind: string;
  /** Collection path for a list. */
  readonly path: string;
  readonly cidrs: (object: KubeObject) => readonly unknown[];
}

const strings = (...lists: readonly (readonly unknown[])[]): unknown[] => lists.flat();

export const RANGE_SOURCES: readonly RangeSource[] = [
  {
    name: 'ServiceCIDR',
    apiVersion: 'networking.k8s.io/v1',
    kind: 'ServiceCIDR',
    path: '/apis/networking.k8s.io/v1/servicecidrs',
    cidrs: (object) => arrayField(object, 'spec', 'cidrs'),
  },
  {
    name: 'ServiceCIDR',
    apiVersion: 'networking.k8s.io/v1beta1',
    kind: 'ServiceCIDR',
    path: '/apis/networking.k8s.io/v1beta1/servicecidrs',
    cidrs: (object) => arrayField(object, 'spec', 'cidrs'),
  },
  {
    name: 'Node podCIDRs',
    apiVersion: 'v1',
    kind: 'Node',
    path: '/api/v1/nodes',
    cidrs: (object) =>
      strings(arrayField(object, 'spec', 'podCIDRs'), [field(object, 'spec', 'podCIDR')]),
  },
  {
    name: 'Calico IPPool',
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    path: '/apis/projectcalico.org/v3/ippools',
    cidrs: (object) => [field(object, 'spec', 'cidr')],
  },
  {
    name: 'Calico IPPool',
    apiVersion: 'crd.projectcalico.org/v1',
    kind: 'IPPool',
    path: '/apis/crd.projectcalico.org/v1/ippools',
    cidrs: (object) => [field(object, 'spec', 'cidr')],
  },
  {
    name: 'CiliumNode',
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNode',
    path: '/apis/cilium.io/v2/ciliumnodes',
    cidrs: (object) => arrayField(object, 'spec', 'ipam', 'podCIDRs'),
  },
  {
    name: 'CiliumPodIPPool',
    apiVersion: 'cilium.io/v2alpha1',
    kind: 'CiliumPodIPPool',
    path: '/apis/cilium.io/v2alpha1/ciliumpodippools',
    cidrs: (object) =>
      strings(
        arrayField(object, 'spec', 'ipv4', 'cidrs'),
        arrayField(object, 'spec', 'ipv6', 'cidrs'),
      ),
  },
  {
    name: 'CiliumPodIPPool',
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumPodIPPool',
    path: '/apis/cilium.io/v2/ciliumpodippools',
    cidrs: (object) =>
      strings(
        arrayField(object, 'spec', 'ipv4', 'cidrs'),
        arrayField(object, 'spec', 'ipv6', 'cidrs'),
      ),
  },
];

/** The pod and service ranges NP005 and NP001 judge with, and where they came from. */
export interface ClusterRanges {
  readonly ranges: readonly { readonly text: string; readonly range: CidrRange }[];
  /** The sources that answered with at least one range, or `policy` for a written list. */
  readonly sources: readonly string[];
  /** Set when NP005 cannot judge: why, and what to do (always ends in "set clusterCIDRs"). */
  readonly unknown: string | undefined;
}

export const OFFLINE_RANGES: ClusterRanges = {
  ranges: [],
  sources: [],
  unknown:
    'offline: the cluster pod and service ranges are not known (clusterCIDRs: auto reads them from a cluster); set clusterCIDRs',
};

// CNIs that give pods addresses of the VPC or VNet: a pod address is then a network address too.
const VPC_CNIS: readonly { readonly daemonSet: string; readonly name: string }[] = [
  { daemonSet: 'aws-node', name: 'AWS VPC CNI' },
  { daemonSet: 'azure-cns', name: 'Azure CNI' },
];

/** The CNI that gives pods VPC/VNet addresses, when one of the DaemonSets is it. */
export function vpcCni(daemonSets: readonly KubeObject[]): string | undefined {
  const names = new Set(daemonSets.map((object) => stringField(object, 'metadata', 'name')));
  return VPC_CNIS.find((cni) => names.has(cni.daemonSet))?.name;
}

const sourceOf = (object: KubeObject): RangeSource | undefined =>
  RANGE_SOURCES.find(
    (source) => source.apiVersion === object['apiVersion'] && source.kind === object['kind'],
  );

/**
 * The union of every range the listed objects hold (objects of other kinds are ignored), and which
 * sources answered. With a VPC CNI, or with no source answering, NP005 is not judged.
 */
export function clusterRangesFrom(
  objects: readonly KubeObject[],
  daemonSets: readonly KubeObject[] = [],
): ClusterRanges {
  const byText = new Map<string, CidrRange>();
  const sources = new Set<string>();
  for (const object of objects) {
    const source = sourceOf(object);
    if (source === undefined) continue;
    for (const value of source.cidrs(object)) {
      if (typeof value !== 'string') continue;
      const range = parseCidr(value);
      if (range === undefined) continue;
      byText.set(value, range);
      sources.add(source.name);
    }
  }
  const ranges = [...byText].map(([text, range]) => ({ text, range }));
  const cni = vpcCni(daemonSets);
  if (cni !== undefined)
    return {
      ranges,
      sources: [...sources],
      unknown: `the ${cni} gives pods VPC/VNet addresses, so pod addresses cannot be told from network addresses; set clusterCIDRs`,
    };
  if (ranges.length === 0)
    return {
      ranges,
      sources: [],
      unknown:
        'no source of pod or service ranges answered (ServiceCIDR, Node podCIDRs, Calico IPPool, CiliumNode, CiliumPodIPPool); set clusterCIDRs',
    };
  return { ranges, sources: [...sources], unknown: undefined };
}

/** One line for logs and /readyz: which sources answered, or why none did. */
export function describeClusterRanges(ranges: ClusterRanges): string {
  if (ranges.unknown !== undefined) return `clusterCIDRs not known: ${ranges.unknown}`;
  return `clusterCIDRs ${ranges.ranges.map((entry) => entry.text).join(', ')} (from ${ranges.sources.join(', ')})`;
}
