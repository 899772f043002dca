/**
 * A dialect review in a crowded namespace (npm run bench:dialects): the engine judges one
 * CiliumNetworkPolicy CREATE in a namespace holding 2,500 NetworkPolicies and 2,500
 * CiliumNetworkPolicies (every one a neighbour NP008 and NP012 may add up) and in an empty one, in
 * process, and prints p50/p99 of each; the crowded p50 should stay within 2x of the empty one
 * (exits non-zero past that). Not a test.
 */
import { performance } from 'node:perf_hooks';
import { validate } from '../src/engine/evaluate.ts';
import type { AdmissionInput } from '../src/engine/types.ts';
import type { KubeObject } from '../src/vocabulary.ts';
import { contextFor } from '../test/helpers/context.ts';

const EACH = 2_500;
const ROUNDS = 3_000;
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

function measure(ns: string): { p50: number; p99: number } {
  const input = review(ns);
  for (let i = 0; i < 200; i += 1) validate(input, ctx); // warm up, and let indexes build
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    const started = performance.now();
    validate(input, ctx);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number): number =>
    times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99) };
}

const inEmpty = measure(empty);
const inCrowded = measure(crowded);
const ratio = inCrowded.p50 / inEmpty.p50;
const ms = (value: number): string => `${value.toFixed(3)} ms`;
console.log(
  `CNP review, empty namespace:               p50 ${ms(inEmpty.p50)}  p99 ${ms(inEmpty.p99)}`,
);
console.log(
  `CNP review among ${EACH} NPs + ${EACH} CNPs:   p50 ${ms(inCrowded.p50)}  p99 ${ms(inCrowded.p99)}`,
);
console.log(`crowded / empty p50: ${ratio.toFixed(2)}x (target: within ${TARGET_RATIO}x)`);
if (ratio > TARGET_RATIO) {
  console.error('dialect-scale: past the target');
  process.exitCode = 1;
}
