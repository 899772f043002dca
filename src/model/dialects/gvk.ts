/**
 * Every judged object is identified by group, version and kind, never by kind alone (DESIGN
 * "Policy dialects"): a Calico `projectcalico.org/v3` NetworkPolicy is not a Kubernetes one, and a
 * kind served under a group or version netguard does not know is not judged as if it were.
 */
import { EXCEPTION_GROUP, EXCEPTION_VERSION } from '../guardrail-exception.ts';
import {
  ADMIN_NETWORK_POLICY,
  BASELINE_ADMIN_NETWORK_POLICY,
  CALICO_GLOBAL_NETWORK_SET,
  CALICO_GLOBAL_POLICY,
  CALICO_NETWORK_SET,
  CALICO_POLICY,
  CILIUM_CIDR_GROUP,
  CILIUM_CLUSTERWIDE_POLICY,
  CILIUM_POLICY,
  CLUSTER_NETWORK_POLICY,
  type KubeObject,
} from '../../vocabulary.ts';

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** `apps/v1` → apps, v1; `v1` → the core group. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** group → version → kind as written → the name the engine and its rules know the kind by. */
const JUDGED: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, string>>>>>> =
  {
    '': {
      v1: { Pod: 'Pod', ReplicationController: 'ReplicationController', Namespace: 'Namespace' },
    },
    apps: {
      v1: {
        Deployment: 'Deployment',
        StatefulSet: 'StatefulSet',
        DaemonSet: 'DaemonSet',
        ReplicaSet: 'ReplicaSet',
      },
    },
    batch: { v1: { Job: 'Job', CronJob: 'CronJob' } },
    'networking.k8s.io': { v1: { NetworkPolicy: 'NetworkPolicy' } },
    [EXCEPTION_GROUP]: { [EXCEPTION_VERSION]: { GuardrailException: 'GuardrailException' } },
    'cilium.io': {
      v2: {
        CiliumNetworkPolicy: CILIUM_POLICY,
        CiliumClusterwideNetworkPolicy: CILIUM_CLUSTERWIDE_POLICY,
        CiliumCIDRGroup: CILIUM_CIDR_GROUP,
      },
      v2alpha1: { CiliumCIDRGroup: CILIUM_CIDR_GROUP },
    },
    // Staged* kinds enforce nothing: they are absent, so never judged.
    'projectcalico.org': { v3: calicoKinds() },
    'crd.projectcalico.org': { v1: calicoKinds() },
    'policy.networking.k8s.io': {
      v1alpha2: { ClusterNetworkPolicy: CLUSTER_NETWORK_POLICY },
      v1alpha1: {
        AdminNetworkPolicy: ADMIN_NETWORK_POLICY,
        BaselineAdminNetworkPolicy: BASELINE_ADMIN_NETWORK_POLICY,
      },
    },
  };

function calicoKinds(): Readonly<Record<string, string>> {
  return {
    NetworkPolicy: CALICO_POLICY,
    GlobalNetworkPolicy: CALICO_GLOBAL_POLICY,
    NetworkSet: CALICO_NETWORK_SET,
    GlobalNetworkSet: CALICO_GLOBAL_NETWORK_SET,
  };
}

const own = <T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined =>
  record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;

/** Marks a group/version/kind netguard does not judge; no rule names such a kind. */
export const UNJUDGED_PREFIX = 'unjudged:';

/**
 * The name the engine knows this group/version/kind by, or, for one it does not judge,
 * `unjudged:kind.version.group`, which no rule names (so it is admitted unjudged, never mistaken).
 */
export function judgedKindOf(gvk: GroupVersionKind): string {
  const known = own(own(own(JUDGED, gvk.group), gvk.version), gvk.kind);
  if (known !== undefined) return known;
  return `${UNJUDGED_PREFIX}${gvk.kind}.${gvk.version}.${gvk.group}`;
}

/** The kind a decision names: the judged name, or for an unjudged object the kind as written. */
export const shownKind = (judgedKind: string, writtenKind: string): string =>
  judgedKind.startsWith(UNJUDGED_PREFIX) ? writtenKind : judgedKind;

/** The object's own group, version and kind, from its `apiVersion` and `kind`. */
export function gvkOfObject(object: KubeObject | undefined): GroupVersionKind {
  const apiVersion = object?.['apiVersion'];
  const kind = object?.['kind'];
  return {
    ...splitApiVersion(typeof apiVersion === 'string' ? apiVersion : ''),
    kind: typeof kind === 'string' ? kind : '',
  };
}
