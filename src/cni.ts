import { arrayField, stringField } from './object-access.ts';
import type { KubeObject } from './vocabulary.ts';

export interface CniFound {
  readonly name: string;
  readonly daemonSet: string;
  readonly enforces: boolean;
  readonly note?: string;
}

export interface CniVerdict {
  readonly enforcing: boolean;
  readonly found: readonly CniFound[];
  /** Set when NetworkPolicies would be accepted but not enforced. */
  readonly warning: string | undefined;
  /** Cilium can allow egress by DNS name (toFQDNs), the better answer to NP004 than IP blocks. */
  readonly fqdnEgress: boolean;
}

type Judge = (daemonSet: KubeObject) => { enforces: boolean; note?: string };

const always: Judge = () => ({ enforces: true });

/** The AWS VPC CNI enforces only when its network-policy agent runs with --enable-network-policy=true. */
const awsNode: Judge = (daemonSet) => {
  const agent = arrayField(daemonSet, 'spec', 'template', 'spec', 'containers').find(
    (c) => stringField(c, 'name') === 'aws-network-policy-agent',
  );
  const enabled = arrayField(agent, 'args').some((arg) => arg === '--enable-network-policy=true');
  return enabled
    ? { enforces: true }
    : {
        enforces: false,
        note: 'the aws-network-policy-agent is not enabled (set enableNetworkPolicy in the VPC CNI add-on)',
      };
};

/** kindnetd enforces since kind v0.24.0 (kube-network-policies); older kindnetd images, tagged by date, do not. */
const kindnet: Judge = (daemonSet) => {
  const image = stringField(
    arrayField(daemonSet, 'spec', 'template', 'spec', 'containers')[0],
    'image',
  );
  const date = /:v(\d{8})/.exec(image)?.[1];
  if (date !== undefined && date < '20240813')
    return {
      enforces: false,
      note: `kindnetd image ${image} predates NetworkPolicy support (kind v0.24.0)`,
    };
  return { enforces: true, note: 'kindnetd enforces NetworkPolicy from kind v0.24.0 on' };
};

const flannel: Judge = () => ({
  enforces: false,
  note: "flannel alone does not implement NetworkPolicy (Canal adds Calico's policy engine)",
});

/** DaemonSet names of known CNIs, as their installers create them. */
const KNOWN: readonly { name: string; cni: string; judge: Judge; prefix?: boolean }[] = [
  { name: 'calico-node', cni: 'Calico', judge: always },
  { name: 'cilium', cni: 'Cilium', judge: always },
  { name: 'anetd', cni: 'GKE Dataplane V2', judge: always },
  { name: 'antrea-agent', cni: 'Antrea', judge: always },
  { name: 'kube-router', cni: 'kube-router', judge: always },
  { name: 'weave-net', cni: 'Weave Net', judge: always },
  { name: 'canal', cni: 'Canal', judge: always },
  { name: 'azure-npm', cni: 'Azure Network Policy Manager', judge: always },
  { name: 'ovnkube-node', cni: 'OVN-Kubernetes', judge: always },
  { name: 'kube-ovn-cni', cni: 'Kube-OVN', judge: always },
  { name: 'aws-node', cni: 'AWS VPC CNI', judge: awsNode },
  { name: 'kindnet', cni: 'kindnet', judge: kindnet },
  { name: 'kube-flannel-ds', cni: 'flannel', judge: flannel, prefix: true },
];

const knownCni = (daemonSet: KubeObject) => {
  const name = stringField(daemonSet, 'metadata', 'name');
  return KNOWN.find((entry) =>
    entry.prefix === true ? name.startsWith(entry.name) : name === entry.name,
  );
};

/**
 * What detectCni reads of a DaemonSet, when it is a known CNI's (else undefined): a paged
 * listing keeps this, not the DaemonSet.
 */
export function cniEvidence(daemonSet: KubeObject): KubeObject | undefined {
  if (knownCni(daemonSet) === undefined) return undefined;
  const containers = arrayField(daemonSet, 'spec', 'template', 'spec', 'containers').map(
    (container) => ({
      name: stringField(container, 'name'),
      image: stringField(container, 'image'),
      args: arrayField(container, 'args').filter((arg) => typeof arg === 'string'),
    }),
  );
  return {
    metadata: {
      name: stringField(daemonSet, 'metadata', 'name'),
      namespace: stringField(daemonSet, 'metadata', 'namespace'),
    },
    spec: { template: { spec: { containers } } },
  };
}

function identify(daemonSet: KubeObject): CniFound | undefined {
  const name = stringField(daemonSet, 'metadata', 'name');
  const known = knownCni(daemonSet);
  if (known === undefined) return undefined;
  const verdict = known.judge(daemonSet);
  return {
    name: known.cni,
    daemonSet: `${stringField(daemonSet, 'metadata', 'namespace')}/${name}`,
    ...verdict,
  };
}

export function detectCni(daemonSets: readonly KubeObject[]): CniVerdict {
  const found = daemonSets.map(identify).filter((entry) => entry !== undefined);
  const enforcing = found.some((entry) => entry.enforces);
  const seen =
    found.length === 0
      ? 'no known CNI DaemonSet was found'
      : `found ${found.map((entry) => entry.name).join(', ')}, which does not enforce it`;
  const warning = enforcing
    ? undefined
    : `NO NETWORKPOLICY-ENFORCING CNI DETECTED (${seen}). The API server accepts NetworkPolicies, but nothing enforces them: every pod can still reach every other pod. Install a CNI that enforces NetworkPolicy (Calico, Cilium, Antrea, ...) before relying on netguard's baseline.`;
  return { enforcing, found, warning, fqdnEgress: found.some((entry) => entry.name === 'Cilium') };
}
