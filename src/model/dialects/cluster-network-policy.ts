/**
 * ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2, tiers Admin and Baseline, actions
 * Accept/Deny/Pass) and AdminNetworkPolicy/BaselineAdminNetworkPolicy (v1alpha1, Allow as Accept)
 * compiled into the one meaning of a policy. Subjects and peers select namespaces, or pods in
 * namespaces; egress may name networks (CIDRs) and domain names.
 */
import { arrayField, field, stringField } from '../../object-access.ts';
import { selectsEveryNamespace } from '../../semantics/selectors.ts';
import type { PolicyPort } from '../../semantics/ports.ts';
import {
  ADMIN_NETWORK_POLICY,
  BASELINE_ADMIN_NETWORK_POLICY,
  CLUSTER_NETWORK_POLICY,
  type KubeObject,
} from '../../vocabulary.ts';
import { EVERY_LABEL_SET, labelSetOf } from '../label-set.ts';
import type {
  DirectionMeaning,
  Grant,
  NamespaceSet,
  Peer,
  PodSet,
  PolicyMeaning,
} from '../policy-meaning.ts';
import {
  blockPeer,
  portEntries,
  portsOf,
  protocolsOf,
  requirementsOf,
  selectorOf,
  strings,
} from './read.ts';

export const isClusterNetworkPolicyKind = (kind: string): boolean =>
  kind === CLUSTER_NETWORK_POLICY ||
  kind === ADMIN_NETWORK_POLICY ||
  kind === BASELINE_ADMIN_NETWORK_POLICY;

function namespacesOf(selector: unknown): NamespaceSet {
  const requirements = requirementsOf(selector);
  const written = {
    matchLabels: {},
    matchExpressions: requirements.map((r) => ({ ...r, values: [...r.values] })),
  };
  if (selectsEveryNamespace(written)) return { kind: 'every' };
  const named = requirements.find(
    (r) => r.key === 'kubernetes.io/metadata.name' && r.operator === 'In',
  );
  if (named !== undefined && requirements.length === 1)
    return { kind: 'named', names: [...named.values].sort() };
  return { kind: 'labelled', labels: labelSetOf(selectorOf(requirements)) };
}

/** `{namespaces: selector}` or `{pods: {namespaceSelector, podSelector}}`. */
function podSetOf(written: unknown): PodSet | undefined {
  const namespaces = field(written, 'namespaces');
  if (namespaces !== undefined)
    return { namespaces: namespacesOf(namespaces), pods: EVERY_LABEL_SET };
  const pods = field(written, 'pods');
  if (pods === undefined) return undefined;
  return {
    namespaces: namespacesOf(field(pods, 'namespaceSelector')),
    pods: labelSetOf(selectorOf(requirementsOf(field(pods, 'podSelector')))),
  };
}

function peerOf(written: unknown, path: string): Peer[] {
  const pods = podSetOf(written);
  if (pods !== undefined) return [{ kind: 'pods', path, pods }];
  const networks = field(written, 'networks');
  if (Array.isArray(networks))
    return strings(networks).map((cidr, index) =>
      blockPeer(`${path}.networks[${index}]`, cidr, []),
    );
  const names = field(written, 'domainNames');
  if (Array.isArray(names))
    return [{ kind: 'names', path: `${path}.domainNames`, patterns: strings(names) }];
  // nodes: the cluster's own nodes.
  return [];
}

/** `ports` (v1alpha1: portNumber, portRange, namedPort) or `protocols` (v1alpha2); none: every port. */
function portsOfRule(rule: unknown): Grant['ports'] {
  const entries: PolicyPort[] = [];
  const list = [...arrayField(rule, 'ports'), ...arrayField(rule, 'protocols')];
  if (list.length === 0) return portsOf([]);
  for (const entry of list) {
    const number = field(entry, 'portNumber');
    const range = field(entry, 'portRange');
    const named = field(entry, 'namedPort');
    if (number !== undefined)
      entries.push(
        ...portEntries(
          protocolsOf(field(number, 'protocol') ?? 'TCP'),
          field(number, 'port'),
          undefined,
        ),
      );
    else if (range !== undefined)
      entries.push(
        ...portEntries(
          protocolsOf(field(range, 'protocol') ?? 'TCP'),
          field(range, 'start'),
          field(range, 'end'),
        ),
      );
    else if (typeof named === 'string')
      entries.push(...portEntries(protocolsOf(undefined), named, undefined));
    else if (typeof field(entry, 'destinationNamedPort') === 'string')
      entries.push(
        ...portEntries(protocolsOf(undefined), field(entry, 'destinationNamedPort'), undefined),
      );
    else
      for (const protocol of ['tcp', 'udp', 'sctp'] as const) {
        const port = field(entry, protocol, 'destinationPort');
        if (field(entry, protocol) === undefined) continue;
        entries.push(
          ...portEntries(
            protocolsOf(protocol),
            // v1alpha2 Port: `number`, or `range: {start, end}`.
            field(port, 'number') ?? field(port, 'range', 'start') ?? field(port, 'start'),
            field(port, 'range', 'end') ?? field(port, 'end'),
          ),
        );
      }
  }
  return portsOf(entries);
}

const ACTIONS: Readonly<Record<string, Grant['action']>> = {
  Accept: 'allow',
  Allow: 'allow',
  Deny: 'deny',
  Pass: 'pass',
};

function directionOf(spec: unknown, direction: 'ingress' | 'egress'): DirectionMeaning | undefined {
  const rules = field(spec, direction);
  if (!Array.isArray(rules)) return undefined;
  const side = direction === 'ingress' ? 'from' : 'to';
  const grants: Grant[] = [];
  rules.forEach((rule, index) => {
    const action = ACTIONS[stringField(rule, 'action')];
    if (action === undefined) return;
    const path = `spec.${direction}[${index}]`;
    grants.push({
      path,
      action,
      peers: arrayField(rule, side).flatMap((peer, at) => peerOf(peer, `${path}.${side}[${at}]`)),
      ports: portsOfRule(rule),
    });
  });
  // Tiered policies never isolate: traffic no rule matches goes on to the next tier.
  return { grants, isolates: false };
}

/** v1alpha2 names its tier; ANP is the Admin tier, BANP the Baseline one (a singleton, no priority). */
function tierOf(spec: unknown, judgedKind: string): NonNullable<PolicyMeaning['tier']> {
  const written = field(spec, 'priority');
  const priority = typeof written === 'number' && Number.isFinite(written) ? written : 0;
  if (judgedKind === BASELINE_ADMIN_NETWORK_POLICY) return { tier: 'baseline', priority: 0 };
  if (judgedKind === ADMIN_NETWORK_POLICY) return { tier: 'admin', priority };
  return { tier: stringField(spec, 'tier') === 'Baseline' ? 'baseline' : 'admin', priority };
}

export function clusterNetworkPolicyMeanings(
  object: KubeObject,
  judgedKind: string,
  version: string,
): PolicyMeaning[] {
  const spec = field(object, 'spec');
  return [
    {
      source: {
        group: 'policy.networking.k8s.io',
        version,
        kind: judgedKind,
        namespace: undefined,
        name: stringField(object, 'metadata', 'name'),
      },
      subject: podSetOf(field(spec, 'subject')) ?? {
        namespaces: { kind: 'every' },
        pods: EVERY_LABEL_SET,
      },
      ingress: directionOf(spec, 'ingress'),
      egress: directionOf(spec, 'egress'),
      bounded: true,
      tier: tierOf(spec, judgedKind),
    },
  ];
}
