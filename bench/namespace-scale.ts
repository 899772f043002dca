/**
 * A review in a crowded namespace (npm run bench:namespace, also run by npm run bench): the engine
 * judges one NetworkPolicy CREATE in a namespace holding 5,000 policies and in an empty one, in
 * process, and prints p50/p99 of each. DESIGN ("One meaning"): the crowded p50 stays within 2x of
 * the empty one; exits non-zero past that. Not a test.
 */
import { compareCrowded } from './crowded-namespace.ts';
import type { AdmissionInput } from '../src/engine/types.ts';
import type { KubeObject } from '../src/vocabulary.ts';
import { contextFor } from '../test/helpers/context.ts';

const POLICIES = 5_000;
const TARGET_RATIO = 2;

function networkPolicy(namespace: string, name: string, i: number): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec: {
      podSelector: { matchLabels: { app: `svc-${i}`, tier: 'backend' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { app: `svc-${(i + 1) % POLICIES}` } } },
            ...(i % 10 === 0 ? [{ ipBlock: { cidr: `52.${i % 256}.0.0/16` } }] : []),
          ],
          ports: [{ protocol: 'TCP', port: 8080 }],
        },
      ],
      egress: [
        {
          to: [{ podSelector: { matchLabels: { app: `svc-${(i + 2) % POLICIES}` } } }],
          ports: [{ protocol: 'TCP', port: 8080 }],
        },
        {
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
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
  // One with a partner ipBlock: NP012 then looks for other policies that could complete the internet.
  const object = networkPolicy(ns, 'reviewed', 70);
  return {
    uid: 'bench',
    kind: 'NetworkPolicy',
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
for (let i = 0; i < POLICIES; i += 1) objects.push(networkPolicy(crowded, `np-${i}`, i));
const ctx = contextFor({ objects });

compareCrowded({
  name: 'namespace-scale',
  ctx,
  empty: review(empty),
  crowded: review(crowded),
  labels: { empty: 'review in an empty namespace', crowded: `review among ${POLICIES} policies` },
  target: TARGET_RATIO,
});
