/**
 * Scale benchmark of the reachability engine (npm run bench:reach): a generated cluster of 500
 * namespaces, 5,000 workloads and 10,000 NetworkPolicies; times `reach --as-enforced` for one
 * namespace and for the whole cluster, at three sizes so the growth is visible. Not a test.
 */
import { RULES_BY_ID } from '../src/rules/registry.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicyFile } from '../src/config/load.ts';
import type { KubeObject } from '../src/vocabulary.ts';
import { reachReport } from '../src/reach/render.ts';
import { buildGraph } from '../src/reach/world.ts';
import { describeMachine } from './machine.ts';

const WORKLOADS_PER_NAMESPACE = 10;
const POLICIES_PER_NAMESPACE = 20;
const TIERS = ['frontend', 'backend', 'backend', 'data'] as const;

const np = (namespace: string, name: string, spec: KubeObject): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});
const app = (j: number): { matchLabels: Record<string, string> } => ({
  matchLabels: { app: `svc-${j}` },
});
const nsName = (i: number): string => `prod-app-${String(i).padStart(3, '0')}`;

function deployment(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  ports: KubeObject[],
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app: labels['app'] } },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'main', image: 'example/app:1', ports }] },
      },
    },
  };
}

/** Twenty policies a team might have: a chain inside the namespace, callers from other teams, egress, monitoring. */
function policiesOf(i: number, namespaces: number): KubeObject[] {
  const ns = nsName(i);
  const out: KubeObject[] = [];
  for (let j = 1; j < WORKLOADS_PER_NAMESPACE; j++) {
    out.push(
      np(ns, `svc-${j}-from-svc-${j - 1}`, {
        podSelector: app(j),
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: app(j - 1) }], ports: [{ port: 'http' }] }],
      }),
    );
  }
  for (let k = 0; k < 5; k++) {
    const team = `team-${(i + k + 1) % 50}`;
    out.push(
      np(ns, `svc-${k}-from-${team}`, {
        podSelector: app(k),
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { team } },
                podSelector: { matchLabels: { tier: 'frontend' } },
              },
            ],
            ports: [{ port: 8080 }],
          },
        ],
      }),
    );
  }
  out.push(
    np(ns, 'egress-within-namespace', {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: {} }] }],
    }),
  );
  for (let k = 0; k < 3; k++) {
    const target = nsName((i + 7 * (k + 1)) % namespaces);
    out.push(
      np(ns, `svc-${k}-egress`, {
        podSelector: app(k),
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': target } },
                podSelector: app(k + 1),
              },
            ],
            ports: [{ port: 8080 }],
          },
          { to: [{ ipBlock: { cidr: '160.79.104.0/23' } }], ports: [{ port: 443 }] },
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
        ],
      }),
    );
  }
  out.push(
    np(ns, 'allow-monitoring', {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
              podSelector: { matchLabels: { app: 'prometheus' } },
            },
          ],
          ports: [{ port: 'metrics' }],
        },
      ],
    }),
  );
  out.push(
    np(ns, 'payments-range-ingress', {
      podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend'] }] },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.244.0.0/16', '10.96.0.0/12'] } }],
          ports: [{ port: 8080, endPort: 8090 }],
        },
      ],
    }),
  );
  return out.slice(0, POLICIES_PER_NAMESPACE);
}

export function generateCluster(namespaces: number): KubeObject[] {
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'monitoring' } },
    deployment('kube-system', 'coredns', { 'k8s-app': 'kube-dns', app: 'coredns' }, [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53 },
    ]),
    deployment('monitoring', 'prometheus', { app: 'prometheus', tier: 'backend' }, [
      { name: 'web', containerPort: 9090 },
    ]),
  ];
  for (let i = 0; i < namespaces; i++) {
    const ns = nsName(i);
    objects.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { team: `team-${i % 50}`, env: 'prod' } },
    });
    for (let j = 0; j < WORKLOADS_PER_NAMESPACE; j++) {
      const tier = TIERS[j % TIERS.length] ?? 'backend';
      objects.push(
        deployment(ns, `svc-${j}`, { app: `svc-${j}`, tier }, [
          { name: 'http', containerPort: 8080 },
          { name: 'metrics', containerPort: 9100 },
        ]),
      );
    }
    objects.push(...policiesOf(i, namespaces));
  }
  return objects;
}

function time<T>(run: () => T): { value: T; ms: number } {
  const start = process.hrtime.bigint();
  const value = run();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

const policy = loadPolicyFile('test/fixtures/policies/lab.yaml', RULES_BY_ID);
const sizes = process.argv.includes('--quick') ? [50] : [125, 250, 500];
console.log(`machine: ${JSON.stringify(describeMachine())}`);
for (const namespaces of sizes) {
  const objects = generateCluster(namespaces);
  const counts = {
    namespaces: namespaces + 2,
    workloads: namespaces * WORKLOADS_PER_NAMESPACE + 2,
    policies: objects.filter((o) => o['kind'] === 'NetworkPolicy').length,
  };
  const build = time(() => buildGraph(objects, { asEnforced: policy }));
  const one = time(() =>
    reachReport(build.value, { asEnforced: true, namespace: nsName(Math.floor(namespaces / 2)) }),
  );
  // A fresh graph: the one-namespace run warmed the per-workload caches the whole-cluster run would fill.
  const fresh = buildGraph(objects, { asEnforced: policy });
  const whole = time(() => reachReport(fresh, { asEnforced: true, namespace: undefined }));
  const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
  console.log(
    `${counts.namespaces} namespaces, ${counts.workloads} workloads, ${counts.policies} policies (+${fresh.policies.length - counts.policies} baseline): ` +
      `build ${build.ms.toFixed(0)} ms; one namespace ${one.ms.toFixed(0)} ms (${one.value.connections.length} connections); ` +
      `whole cluster ${(whole.ms / 1000).toFixed(2)} s (${whole.value.connections.length} connections); RSS ${rss} MiB`,
  );
}

// End to end as users run it: the largest cluster as one JSON List, read by `netguard reach -f`.
const largest = sizes.at(-1) ?? 50;
const file = join(mkdtempSync(join(tmpdir(), 'bench-reach-')), 'cluster.json');
writeFileSync(
  file,
  JSON.stringify({ apiVersion: 'v1', kind: 'List', items: generateCluster(largest) }),
);
for (const scope of [['-n', nsName(Math.floor(largest / 2))], []]) {
  const args = ['src/cli/main.ts', 'reach', '-f', file, '--as-enforced', '-o', 'json', ...scope];
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.status !== 0) throw new Error(run.stderr);
  const label = scope.length === 0 ? 'whole cluster' : 'one namespace';
  console.log(
    `CLI netguard reach -f (${largest + 2} namespaces) --as-enforced, ${label}: ${seconds.toFixed(2)} s end to end`,
  );
}
