import fc from 'fast-check';
import t from 'tap';
import { validate } from '../../src/engine/evaluate.ts';
import type { AdmissionInput, Decision } from '../../src/engine/types.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { contextFor } from '../helpers/context.ts';
import '../helpers/property.ts';
import { defaultLevelsPolicy, findingsOf } from './judge.ts';

/** A tenant's CREATE of `object`, with `cluster` as what the cluster holds. */
function judgeWith(object: KubeObject, cluster: readonly KubeObject[]): Decision {
  const metadata = object['metadata'] as Record<string, string>;
  const input: AdmissionInput = {
    uid: 'sets',
    kind: String(object['kind']),
    operation: 'CREATE',
    namespace: metadata['namespace'] ?? '',
    name: metadata['name'] ?? '',
    object,
    oldObject: undefined,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    dryRun: false,
  };
  return validate(input, contextFor({ policy: defaultLevelsPolicy(), objects: cluster }));
}

const metadata = { name: 'out', namespace: 'prod-x' };
const calicoDns = ['UDP', 'TCP'].map((protocol) => ({
  action: 'Allow',
  protocol,
  destination: {
    selector: "k8s-app == 'kube-dns'",
    namespaceSelector: "projectcalico.org/name == 'kube-system'",
    ports: [53],
  },
}));
const ciliumDns = {
  toEndpoints: [
    { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s-app': 'kube-dns' } },
  ],
  toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }] }],
};

/** Egress to `nets` on TCP 443, spelled inline or through a set, in each dialect: [policy, cluster]. */
const SPELLINGS: Record<string, (nets: string[]) => [KubeObject, KubeObject[]]> = {
  'NetworkPolicy ipBlocks': (nets) => [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata,
      spec: {
        podSelector: { matchLabels: { app: 'api' } },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: {
                  matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
                },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
          {
            to: nets.map((cidr) => ({ ipBlock: { cidr } })),
            ports: [{ protocol: 'TCP', port: 443 }],
          },
        ],
      },
    },
    [],
  ],
  'Calico nets': (nets) => [
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata,
      spec: {
        selector: "app == 'api'",
        types: ['Egress'],
        egress: [
          ...calicoDns,
          { action: 'Allow', protocol: 'TCP', destination: { nets, ports: [443] } },
        ],
      },
    },
    [],
  ],
  'Calico selector of a NetworkSet': (nets) => [
    {
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata,
      spec: {
        selector: "app == 'api'",
        types: ['Egress'],
        egress: [
          ...calicoDns,
          {
            action: 'Allow',
            protocol: 'TCP',
            destination: { selector: "role == 'partner'", ports: [443] },
          },
        ],
      },
    },
    [
      {
        apiVersion: 'crd.projectcalico.org/v1',
        kind: 'NetworkSet',
        metadata: { name: 'partners', namespace: 'prod-x', labels: { role: 'partner' } },
        spec: { nets },
      },
    ],
  ],
  'Cilium cidrGroupRef': (nets) => [
    {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata,
      spec: {
        endpointSelector: { matchLabels: { app: 'api' } },
        egress: [
          ciliumDns,
          {
            toCIDRSet: [{ cidrGroupRef: 'partners' }],
            toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }],
          },
        ],
      },
    },
    [
      {
        apiVersion: 'cilium.io/v2alpha1',
        kind: 'CiliumCIDRGroup',
        metadata: { name: 'partners' },
        spec: { externalCIDRs: nets },
      },
    ],
  ],
};

t.test(
  'property: addresses held by a set are judged as the same addresses written inline',
  async (t) => {
    const cidr = fc.constantFrom(
      '160.79.104.0/24',
      '160.79.105.0/24',
      '8.8.8.0/24',
      '0.0.0.0/0',
      '52.0.0.0/9',
      '52.128.0.0/9',
      '10.0.0.0/8',
    );
    fc.assert(
      fc.property(fc.uniqueArray(cidr, { minLength: 1, maxLength: 3 }), (nets) => {
        const verdicts = Object.entries(SPELLINGS).map(([spelling, write]) => {
          const [policy, cluster] = write(nets);
          const decision = judgeWith(policy, cluster);
          return {
            spelling,
            allowed: decision.allowed,
            np004: findingsOf(decision, 'NP004').length > 0,
          };
        });
        const [first] = verdicts;
        return verdicts.every(
          (each) => each.allowed === first?.allowed && each.np004 === first?.np004,
        );
      }),
    );
    const [open, cluster] = SPELLINGS['Calico selector of a NetworkSet']?.(['0.0.0.0/0']) ?? [
      {},
      [],
    ];
    t.equal(
      judgeWith(open, cluster).allowed,
      false,
      'the property covers a set that opens the internet',
    );
  },
);
