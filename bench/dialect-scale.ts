/**
 * A dialect review in a crowded namespace (npm run bench:dialects): the engine judges one
 * CiliumNetworkPolicy CREATE in a namespace holding 2,500 NetworkPolicies and 2,500
 * CiliumNetworkPolicies (every one a neighbour NP008 and NP012 may add up) and in an empty one, in
 * process, and prints p50/p99 of each; the crowded p50 should stay within 2x of the empty one
 * (exits non-zero past that). Not a test.
 */
import { compareCrowded } from './crowded-namespace.ts';
import type { AdmissionInput } from '../src/engine/types.ts';
import type { KubeObject } from '../src/vocabulary.ts';
import { contextFor } from '../test/helpers/context.ts';

const EACH = 2_500;
const TARGET_RATIO = 2;

function cilium(namespace: string, name: string, i: number): KubeObject {
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name, namespace },
    spec: {
      endpointSelector: { matchLabels: { app: `svc-${i}`, tier: 'backend' } },
      ingress: [
        {
          fromEndpoints: [{ matchLabels: { app: `svc-${(i + 1) % EACH}` } }],
          ...(i % 10 === 0 ? { fromCIDR: [`52.${i % 256}.0.0/16`] } : {}),
          toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }] }],
        },
      ],
    },
  };
}

function networkPolicy(namespace: string, name: string, i: number): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec: {
      podSelector: { matchLabels: { app: `svc-${i}`, tier: 'backend' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { app: `svc-${(i + 1) % EACH}` } } }],
          ports: [{ protocol: 'TCP', port: 8080 }],
        },
      ],
    },
  };
}

const namespace = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
});

function review(ns: string): AdmissionInput {
  const object = cilium(ns, 'reviewed', 70);
  return {
    uid: 'bench',
    kind: 'CiliumNetworkPolicy',
    group: 'cilium.io',
    version: 'v2',
    operation: 'CREATE',
    namespace: ns,
    name: 'reviewed',
    object,
    oldObject: undefined,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    dryRun: false,
  };
}

const crowded = 'prod-crowded';
const empty = 'prod-empty';
const objects: KubeObject[] = [namespace(crowded), namespace(empty)];
for (let i = 0; i < EACH; i += 1) {
  objects.push(networkPolicy(crowded, `np-${i}`, i));
  objects.push(cilium(crowded, `cnp-${i}`, i));
}
const ctx = contextFor({ objects });

compareCrowded({
  name: 'dialect-scale',
  ctx,
  empty: review(empty),
  crowded: review(crowded),
  labels: {
    empty: 'CNP review, empty namespace',
    crowded: `CNP review among ${EACH} NPs + ${EACH} CNPs`,
  },
  target: TARGET_RATIO,
});
