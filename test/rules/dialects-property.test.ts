import fc from 'fast-check';
import t from 'tap';
import { parsePolicy } from '../../src/config/load.ts';
import { validate } from '../../src/engine/evaluate.ts';
import type { AdmissionInput, Decision } from '../../src/engine/types.ts';
import type { KubeObject } from '../../src/vocabulary.ts';
import { contextFor } from '../helpers/context.ts';
import { RULES_BY_ID } from '../../src/rules/registry.ts';
import '../helpers/property.ts';

/** One rule's traffic, as all three dialects can write it. */
interface Traffic {
  readonly direction: 'ingress' | 'egress';
  readonly tier: 'backend' | 'frontend';
  readonly peer:
    | { kind: 'any' }
    | { kind: 'cidr'; cidr: string }
    | { kind: 'every-namespace' }
    | { kind: 'own-pods' };
  readonly protocol: 'TCP' | 'UDP';
  /** Empty: every port. */
  readonly ports: readonly number[];
}

const traffic: fc.Arbitrary<Traffic> = fc.record({
  direction: fc.constantFrom('ingress', 'egress'),
  tier: fc.constantFrom('backend', 'frontend'),
  peer: fc.oneof(
    fc.constant({ kind: 'any' as const }),
    fc.record({
      kind: fc.constant('cidr' as const),
      cidr: fc.constantFrom(
        '0.0.0.0/0',
        '0.0.0.0/1',
        '160.79.104.0/24',
        '8.8.8.0/24',
        '192.168.0.0/16',
        '::/0',
        '2001:db8::/32',
      ),
    }),
    fc.constant({ kind: 'every-namespace' as const }),
    fc.constant({ kind: 'own-pods' as const }),
  ),
  protocol: fc.constantFrom('TCP', 'UDP'),
  ports: fc.uniqueArray(fc.constantFrom(53, 443, 8080), { maxLength: 2 }),
});

const NAMESPACE = 'prod-x';
const meta = { name: 'p', namespace: NAMESPACE };

function networkPolicy(x: Traffic): KubeObject {
  const peer =
    x.peer.kind === 'cidr'
      ? { ipBlock: { cidr: x.peer.cidr } }
      : x.peer.kind === 'every-namespace'
        ? { namespaceSelector: {} }
        : x.peer.kind === 'own-pods'
          ? { podSelector: { matchLabels: { app: 'web' } } }
          : undefined;
  const side = x.direction === 'ingress' ? 'from' : 'to';
  const rule = {
    ...(peer === undefined ? {} : { [side]: [peer] }),
    ...(x.ports.length === 0
      ? {}
      : { ports: x.ports.map((port) => ({ protocol: x.protocol, port })) }),
  };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta,
    spec: {
      podSelector: { matchLabels: { app: 'api', tier: x.tier } },
      policyTypes: [x.direction === 'ingress' ? 'Ingress' : 'Egress'],
      [x.direction]: [rule],
    },
  };
}

function cilium(x: Traffic): KubeObject {
  const prefix = x.direction === 'ingress' ? 'from' : 'to';
  const toPorts =
    x.ports.length === 0
      ? {}
      : {
          toPorts: [
            { ports: x.ports.map((port) => ({ port: String(port), protocol: x.protocol })) },
          ],
        };
  const peer =
    x.peer.kind === 'cidr'
      ? { [`${prefix}CIDR`]: [x.peer.cidr] }
      : x.peer.kind === 'every-namespace'
        ? {
            [`${prefix}Endpoints`]: [
              {
                matchExpressions: [{ key: 'k8s:io.kubernetes.pod.namespace', operator: 'Exists' }],
              },
            ],
          }
        : x.peer.kind === 'own-pods'
          ? { [`${prefix}Endpoints`]: [{ matchLabels: { app: 'web' } }] }
          : // Every peer: ports alone, or (every port) the entity `all`, since `{}` allows nothing.
            x.ports.length === 0
            ? { [`${prefix}Entities`]: ['all'] }
            : {};
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: meta,
    spec: {
      endpointSelector: { matchLabels: { app: 'api', tier: x.tier } },
      [x.direction]: [{ ...peer, ...toPorts }],
    },
  };
}

function calico(x: Traffic): KubeObject {
  const peer =
    x.peer.kind === 'cidr'
      ? { nets: [x.peer.cidr] }
      : x.peer.kind === 'every-namespace'
        ? { namespaceSelector: 'all()' }
        : x.peer.kind === 'own-pods'
          ? { selector: "app == 'web'" }
          : {};
  const ports = x.ports.length === 0 ? {} : { ports: [...x.ports] };
  const rule =
    x.direction === 'ingress'
      ? { action: 'Allow', source: peer, destination: ports }
      : { action: 'Allow', destination: { ...peer, ...ports } };
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: meta,
    spec: {
      selector: `app == 'api' && tier == '${x.tier}'`,
      types: [x.direction === 'ingress' ? 'Ingress' : 'Egress'],
      [x.direction]: [x.ports.length === 0 ? rule : { ...rule, protocol: x.protocol }],
    },
  };
}

const POLICY = parsePolicy(
  `apiVersion: netguard.dev/v1alpha1
kind: GuardrailPolicy
spec:
  environments: [{name: production, mode: enforce, namespaces: ["prod-*"]}]
  networkPolicies:
    approvedEgressCIDRs: [160.79.104.0/23]
    clusterCIDRs: [10.244.0.0/16, 10.96.0.0/12]
`,
  'property',
  RULES_BY_ID,
);
const COMPARED = new Set(['NP001', 'NP002', 'NP003', 'NP004', 'NP008', 'NP012']);

function judged(object: KubeObject): Decision {
  const apiVersion = String(object['apiVersion']);
  const slash = apiVersion.lastIndexOf('/');
  const input: AdmissionInput = {
    uid: 'p',
    kind: String(object['kind']),
    group: apiVersion.slice(0, slash),
    version: apiVersion.slice(slash + 1),
    operation: 'CREATE',
    namespace: NAMESPACE,
    name: 'p',
    object,
    oldObject: undefined,
    user: { username: 'alice', groups: [] },
    dryRun: false,
  };
  return validate(input, contextFor({ policy: POLICY }));
}

const verdict = (decision: Decision) => ({
  allowed: decision.allowed,
  rules: [
    ...new Set(decision.findings.map((f) => f.rule).filter((rule) => COMPARED.has(rule))),
  ].sort(),
});

t.test('the same traffic in NetworkPolicy, Cilium and Calico gets the same verdict', async (t) => {
  let denied = 0;
  let runs = 0;
  fc.assert(
    fc.property(traffic, (x) => {
      const kube = verdict(judged(networkPolicy(x)));
      runs += 1;
      if (!kube.allowed) denied += 1;
      t.same(verdict(judged(cilium(x))), kube, `Cilium ${JSON.stringify(x)}`);
      t.same(verdict(judged(calico(x))), kube, `Calico ${JSON.stringify(x)}`);
    }),
  );
  t.ok(denied > runs / 10 && denied < runs, `both verdicts occur (${denied} of ${runs} denied)`);
});
