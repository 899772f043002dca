import { loadOne, reviewFor, type ReviewOptions } from '../test/helpers/reviews.ts';
import type { KubeObject } from '../src/vocabulary.ts';
import { bodyTemplate, type BodyTemplate } from './review-bodies.ts';

export type Verdict = 'allowed' | 'denied';

/** One kind of request: its body, where it goes, and what DESIGN.md says netguard must answer. */
export interface Case {
  readonly id: string;
  readonly path: '/validate' | '/mutate';
  readonly template: BodyTemplate;
  readonly expected: Verdict;
  /** /mutate of a new Namespace must carry a JSON Patch (NS001). */
  readonly patch: boolean;
  /** What stands between the engine and the expected verdict, when it may not be built yet. */
  readonly pendingOn?: string;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly cases: readonly Case[];
  /** Indices into `cases`, cycled: the request mix. */
  readonly cycle: readonly number[];
}

const FIXTURES = 'bench/fixtures';

function record(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function metadataOf(object: KubeObject): Record<string, unknown> {
  return record(object['metadata'], 'metadata');
}

function templateOf(deployment: KubeObject): Record<string, unknown> {
  return record(record(deployment['spec'], 'spec')['template'], 'spec.template');
}

function labels(meta: Record<string, unknown>): Record<string, unknown> {
  return record(meta['labels'], 'metadata.labels');
}

function fixture(name: string): KubeObject {
  return loadOne(`${FIXTURES}/${name}`);
}

function makeCase(
  id: string,
  object: KubeObject,
  expected: Verdict,
  more: Partial<Omit<Case, 'id' | 'template' | 'expected'>> & { review?: ReviewOptions } = {},
): Case {
  const { review, ...rest } = more;
  return {
    id,
    path: '/validate',
    patch: false,
    ...rest,
    template: bodyTemplate(reviewFor(object, review)),
    expected,
  };
}

function podAllowed(): Case {
  return makeCase('pod-allowed', fixture('pod.yaml'), 'allowed');
}

/** No tier label in an enforce namespace: POD001 denies. */
function podDenied(): Case {
  const pod = fixture('pod.yaml');
  delete labels(metadataOf(pod))['tier'];
  return makeCase('pod-denied', pod, 'denied');
}

/** Same defect in prod-crawl, where an approved GuardrailException waives POD001 for app=crawler. */
function podWaived(): Case {
  const pod = fixture('pod.yaml');
  const meta = metadataOf(pod);
  meta['namespace'] = 'prod-crawl';
  meta['name'] = 'crawler-5b7f9c8d6-q8wzt';
  meta['generateName'] = 'crawler-5b7f9c8d6-';
  meta['labels'] = { app: 'crawler', version: 'v2.14.1' };
  return makeCase('pod-waived', pod, 'allowed', { pendingOn: 'the exception registry' });
}

function deployment(): Case {
  return makeCase('deployment', fixture('deployment.yaml'), 'allowed');
}

/** An image bump of a Deployment whose template always lacked `tier`: pre-existing, so it only warns. */
function deploymentUpdate(): Case {
  const before = fixture('deployment.yaml');
  const stamp = {
    uid: '6f1c2f0e-7f57-4b1e-9a51-3f0f3c1f2a10',
    resourceVersion: '48213',
    generation: 4,
    creationTimestamp: '2026-10-02T08:00:00Z',
  };
  Object.assign(metadataOf(before), stamp);
  delete labels(metadataOf(templateOf(before)))['tier'];
  const after = structuredClone(before);
  const spec = record(templateOf(after)['spec'], 'spec.template.spec');
  const containers = spec['containers'];
  if (!Array.isArray(containers)) throw new Error('spec.template.spec.containers is not a list');
  record(containers[0], 'containers[0]')['image'] = 'registry.example.com/payments/api:4.2.1';
  return makeCase('deployment-update', after, 'allowed', {
    review: { operation: 'UPDATE', oldObject: before },
  });
}

function networkPolicyAdmitted(): Case {
  return makeCase('networkpolicy-admitted', fixture('networkpolicy-admitted.yaml'), 'allowed', {
    pendingOn: 'the NetworkPolicy rules',
  });
}

function networkPolicyDenied(): Case {
  return makeCase('networkpolicy-denied', fixture('networkpolicy-denied.yaml'), 'denied', {
    pendingOn: 'NP004 world-egress',
  });
}

function namespaceMutation(): Case {
  return makeCase('namespace-mutation', fixture('namespace.yaml'), 'allowed', {
    path: '/mutate',
    patch: true,
  });
}

/** issue 13's small reviews (1-3 KB): a controller's Pod, a server-side-applied Deployment. */
function smallPod(expected: Verdict): Case {
  const pod = fixture('small-pod.yaml');
  if (expected === 'denied') delete labels(metadataOf(pod))['tier'];
  return makeCase(expected === 'denied' ? 'small-pod-denied' : 'small-pod', pod, expected);
}

function smallDeployment(): Case {
  return makeCase('small-deployment', fixture('small-deployment.yaml'), 'allowed');
}

/** A replica bump of the small Deployment: UPDATE with oldObject, no findings. */
function smallDeploymentUpdate(): Case {
  const before = fixture('small-deployment.yaml');
  Object.assign(metadataOf(before), {
    uid: '0b6f3f52-9a51-4c1e-8f0e-2d7c6a1b9e44',
    resourceVersion: '91234',
    generation: 7,
  });
  const after = structuredClone(before);
  record(after['spec'], 'spec')['replicas'] = 5;
  return makeCase('small-deployment-update', after, 'allowed', {
    review: { operation: 'UPDATE', oldObject: before },
  });
}

/** Spreads each case evenly over a cycle of sum(weights) requests (deterministic, no clumps). */
function weightedCycle(weights: readonly number[]): number[] {
  const slots: { index: number; at: number }[] = [];
  weights.forEach((weight, index) => {
    for (let k = 0; k < weight; k++) slots.push({ index, at: (k + 0.5) / weight });
  });
  return slots.sort((a, b) => a.at - b.at || a.index - b.index).map((slot) => slot.index);
}

function single(id: string, title: string, only: Case): Scenario {
  return { id, title, cases: [only], cycle: [0] };
}

/**
 * Every scenario of issue 7 (the mix: 60% Pod/workload, 25% NetworkPolicy, 15% Namespace)
 * and issue 13's small-review mix.
 */
export function buildScenarios(): Scenario[] {
  const pods = { allowed: podAllowed(), denied: podDenied(), waived: podWaived() };
  const workloads = { deployment: deployment(), update: deploymentUpdate() };
  const policies = { admitted: networkPolicyAdmitted(), denied: networkPolicyDenied() };
  const namespace = namespaceMutation();
  // 20 per cycle: pods 5+2, deployments 4+1 (60%); NetworkPolicies 3+2 (25%); Namespaces 3 (15%).
  const mix: [Case, number][] = [
    [pods.allowed, 5],
    [pods.denied, 2],
    [workloads.deployment, 4],
    [workloads.update, 1],
    [policies.admitted, 3],
    [policies.denied, 2],
    [namespace, 3],
  ];
  // issue 13's small-review mix, 20 per cycle: Pods 5+2, Deployments 4 and 2 UPDATEs,
  // NetworkPolicies 3+2, Namespaces 2.
  const small: [Case, number][] = [
    [smallPod('allowed'), 5],
    [smallPod('denied'), 2],
    [smallDeployment(), 4],
    [smallDeploymentUpdate(), 2],
    [policies.admitted, 3],
    [policies.denied, 2],
    [namespace, 2],
  ];
  return [
    single('pod-allowed', 'Pod allowed', pods.allowed),
    single('pod-denied', 'Pod denied', pods.denied),
    single('pod-waived', 'Pod waived', pods.waived),
    single('deployment', 'Deployment', workloads.deployment),
    single('networkpolicy-admitted', 'NetworkPolicy admitted', policies.admitted),
    single('networkpolicy-denied', 'NetworkPolicy denied', policies.denied),
    single('namespace-mutation', 'Namespace mutation', namespace),
    single('deployment-update', 'UPDATE with oldObject', workloads.update),
    {
      id: 'mix',
      title: 'Mix',
      cases: mix.map(([c]) => c),
      cycle: weightedCycle(mix.map(([, weight]) => weight)),
    },
    {
      id: 'mix-small',
      title: 'Small-review mix',
      cases: small.map(([c]) => c),
      cycle: weightedCycle(small.map(([, weight]) => weight)),
    },
  ];
}
