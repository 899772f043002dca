// npm run bench -- --big-jobs (also part of --hostile: --only big-jobs)
// Issue 25's third proof: 120 compliant, suspended Jobs of ~1.2 MB each (under etcd's 1.5 MiB) in
// the cluster change the RSS of `netguard serve` and of `netguard controller` by less than 20 MB.
// Both run as child processes with their Deployments' environment (deploy/) against the loopback fake API
// server (test/helpers/fake-kube-api.ts); each is measured twice, without and with the Jobs: the
// webhook once its caches have synced, the controller once a PolicyReport scan has been written.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';
import { startFakeKubeApi, type FakeKubeApi } from '../test/helpers/fake-kube-api.ts';
import type { Check } from './hostile.ts';
import { usageOf } from './proc-usage.ts';
import { freePort } from './server-process.ts';

const MB = 1_000_000;
const MiB = 1024 * 1024;
const JOBS = 120;
/** Each Job's JSON size: under etcd's 1.5 MiB request limit, as a tenant can store it. */
const JOB_BYTES = 1.2 * MB;
const TARGET_DELTA = 20 * MB;
/**
 * The environment each Deployment gives its container (NODE_OPTIONS, GLIBC_TUNABLES), read from
 * deploy/ so the bench runs each process exactly as the cluster would.
 */
function deploymentEnv(file: string): Record<string, string> {
  const deployment = parse(readFileSync(file, 'utf8')) as {
    spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
  };
  const env: Record<string, string> = {};
  for (const entry of deployment.spec.template.spec.containers[0]?.env ?? [])
    if (typeof entry.value === 'string' && /^(NODE_OPTIONS|GLIBC_TUNABLES)$/.test(entry.name))
      env[entry.name] = entry.value;
  return env;
}
const WEBHOOK_ENV = deploymentEnv('deploy/base/deployment.yaml');
const CONTROLLER_ENV = deploymentEnv('deploy/base/controller.yaml');
const described = (env: Record<string, string>): string =>
  Object.entries(env)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
export const NAMESPACES = ['prod-shop', 'prod-batch', 'dev-batch'];
const SYNC_TIMEOUT_MS = 60_000;
/** The first PolicyReport scan runs 30 s (the settle time) after the controller starts. */
const SCAN_TIMEOUT_MS = 120_000;

export const namespace = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name,
    labels: { 'kubernetes.io/metadata.name': name, env: name.startsWith('prod') ? 'prod' : 'dev' },
  },
});

export const policies = (ns: string) => [
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'default-deny', namespace: ns },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-dns', namespace: ns },
    spec: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    },
  },
];

/**
 * A compliant, suspended Job padded to ~1.2 MB the ways real ones get big: a kubectl last-applied
 * annotation, managedFields and a long env (a third each). Every Job's padding is its own text.
 */
export function bigJob(ns: string, i: number): Record<string, unknown> {
  const third = Math.floor(JOB_BYTES / 3);
  const pad = (what: string, bytes: number): string => {
    const unit = `${what}-${ns}-${i}-`;
    return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
  };
  const labels = { app: `batch-${i}`, team: 'data', tier: 'backend' };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `big-${i}`,
      namespace: ns,
      labels,
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': pad('applied', third) },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'batch/v1',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:annotations': { [pad('f', 200)]: {} } },
            pad: pad('managed', third),
          },
        },
      ],
    },
    spec: {
      suspend: true,
      backoffLimit: 0,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'work',
              image: 'registry.example.com/data/batch:1.0.0',
              env: Array.from({ length: 40 }, (_, n) => ({
                name: `SETTING_${n}`,
                value: pad(`env${n}`, Math.floor(third / 40)),
              })),
              resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
            },
          ],
        },
      },
    },
  };
}

interface Child {
  readonly pid: number;
  /** Every JSON log line's `msg` so far. */
  readonly messages: string[];
  stop(): Promise<void>;
}

/** A netguard command as its own process, with its Deployment's environment, its stdout's log messages collected. */
function startNetguard(main: string, env: Record<string, string>, args: readonly string[]): Child {
  const child = spawn(process.execPath, [main, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const messages: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    try {
      const msg: unknown = Reflect.get(JSON.parse(line) as object, 'msg');
      if (typeof msg === 'string') messages.push(msg);
    } catch {
      // not a log line
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid ?? 0,
    messages,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitFor(what: string, ms: number, done: () => boolean, child: Child): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`big-jobs: ${what} not seen within ${ms / 1000} s`);
    usageOf(child.pid); // throws once the process is gone
    await sleep(250);
  }
}

/**
 * RSS once the process has been idle a while: the lowest of `seconds` readings a second apart,
 * after 5 s (V8 shrinks its heap when idle; the lowest reading is the one after a collection, so
 * garbage left from start-up does not count as growth).
 */
async function settledRss(pid: number, seconds = 10): Promise<{ rss: number; peak: number }> {
  await sleep(5_000);
  let rss = Number.POSITIVE_INFINITY;
  for (let i = 0; i < seconds; i++) {
    rss = Math.min(rss, usageOf(pid).rss);
    await sleep(1_000);
  }
  return { rss, peak: usageOf(pid).maxRss };
}

/**
 * A freshly started process's idle RSS differs by up to ~16 MB from one start to the next with the
 * same cluster (how much start-up garbage V8 keeps): the size of the target. So each side, for
 * both processes, is the lowest of a few starts.
 */
const STARTS = 3;

async function lowest<M extends { rss: number; peak: number }>(
  starts: number,
  measure: () => Promise<M>,
): Promise<M> {
  let best = await measure();
  for (let i = 1; i < starts; i++) {
    const next = await measure();
    if (next.rss < best.rss) best = next;
  }
  return best;
}

interface Setup {
  readonly api: FakeKubeApi;
  readonly main: string;
  /** The serving pair (writeLocalCertificates). */
  readonly dir: string;
  readonly exceptions: string;
}

const watchOpened = (api: FakeKubeApi, from: number, collection: string): boolean =>
  api.requests
    .slice(from)
    .some(
      (request) =>
        request.path === collection &&
        (request.query.get('watch') === 'true' || request.query.get('watch') === '1'),
    );

/** `netguard serve` against the fake cluster: RSS once its three caches have synced. */
async function measureWebhook(setup: Setup): Promise<{ rss: number; peak: number }> {
  const from = setup.api.requests.length;
  const child = startNetguard(setup.main, WEBHOOK_ENV, [
    'serve',
    ...['--port', '0', '--metrics-port', '0', '--host', '127.0.0.1'],
    ...['--certs', setup.dir, '--exceptions', setup.exceptions],
    ...['--config', 'policies/guardrails.yaml', '--kubeconfig', setup.api.kubeconfigPath],
  ]);
  try {
    await waitFor(
      'the webhook caches syncing',
      SYNC_TIMEOUT_MS,
      () =>
        [
          '/api/v1/namespaces',
          '/apis/networking.k8s.io/v1/networkpolicies',
          '/apis/netguard.dev/v1alpha1/guardrailexceptions',
        ].every((collection) => watchOpened(setup.api, from, collection)),
      child,
    );
    return await settledRss(child.pid);
  } finally {
    await child.stop();
  }
}

/** Where the memory is, from the process's own /metrics (prom-client's default metrics), in MiB. */
async function heapOf(port: number): Promise<string> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const read = (name: string): string => {
      const value = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1];
      return value === undefined ? '?' : (Number(value) / MiB).toFixed(0);
    };
    return `V8 heap ${read('nodejs_heap_size_used_bytes')} used of ${read('nodejs_heap_size_total_bytes')}, external ${read('nodejs_external_memory_bytes')} MiB`;
  } catch (err) {
    return `no /metrics (${String(err)})`;
  }
}

/** `netguard controller` against the fake cluster: RSS after its first PolicyReport scan is written. */
async function measureController(
  setup: Setup,
): Promise<{ rss: number; peak: number; heap: string }> {
  const from = setup.api.requests.length;
  const metricsPort = await freePort();
  const child = startNetguard(setup.main, CONTROLLER_ENV, [
    'controller',
    ...['--metrics-port', String(metricsPort), '--host', '127.0.0.1', '--policy-reports', '10m'],
    ...['--exceptions', setup.exceptions, '--config', 'policies/guardrails.yaml'],
    ...['--kubeconfig', setup.api.kubeconfigPath],
  ]);
  try {
    await waitFor(
      'a PolicyReport scan written',
      SCAN_TIMEOUT_MS,
      () => child.messages.includes('policy reports written'),
      child,
    );
    const listedJobs = setup.api.requests
      .slice(from)
      .some((request) => request.path === '/apis/batch/v1/jobs');
    if (!listedJobs) throw new Error('big-jobs: the controller scan never listed the Jobs');
    // A scan is a burst every 10 minutes; between them the controller idles. Its RSS is read over
    // 30 s of that idle time, long enough for V8's memory reducer to collect the scan's garbage
    // (and the socket buffers it holds outside the heap).
    const settled = await settledRss(child.pid, 30);
    return { ...settled, heap: await heapOf(metricsPort) };
  } finally {
    await child.stop();
  }
}

/** Runs the scenario; one Check per process. */
export async function bigJobs(context: {
  readonly dir: string;
  readonly exceptions: string;
  readonly netguardMain: string;
  readonly log: (line: string) => void;
}): Promise<Check[]> {
  const teardowns: (() => unknown)[] = [];
  const tap = { teardown: (fn: () => unknown) => void teardowns.push(fn) } as unknown as Test;
  const api = await startFakeKubeApi(tap);
  try {
    for (const ns of NAMESPACES) {
      api.seed('/api/v1/namespaces', namespace(ns));
      api.seed('/apis/networking.k8s.io/v1/networkpolicies', ...policies(ns));
    }
    const setup: Setup = {
      api,
      main: context.netguardMain,
      dir: context.dir,
      exceptions: context.exceptions,
    };
    const measure = async () => ({
      webhook: await lowest(STARTS, () => measureWebhook(setup)),
      controller: await lowest(STARTS, () => measureController(setup)),
    });
    const before = await measure();
    const jobs = Array.from({ length: JOBS }, (_, i) =>
      bigJob(NAMESPACES[i % NAMESPACES.length] ?? 'prod-shop', i),
    );
    const sizes = jobs.map((job) => JSON.stringify(job).length);
    api.seed('/apis/batch/v1/jobs', ...jobs);
    const after = await measure();
    const total = sizes.reduce((sum, size) => sum + size, 0);
    context.log(
      `big-jobs: ${JOBS} suspended Jobs of ${(Math.min(...sizes) / MB).toFixed(2)}-${(Math.max(...sizes) / MB).toFixed(2)} MB (${(total / MB).toFixed(0)} MB in all)`,
    );
    return (['webhook', 'controller'] as const).map((name) => {
      const delta = after[name].rss - before[name].rss;
      const env = described(name === 'webhook' ? WEBHOOK_ENV : CONTROLLER_ENV);
      const when = name === 'webhook' ? 'caches synced' : 'PolicyReport scan written';
      const heap =
        name === 'controller' ? ` (${before.controller.heap} → ${after.controller.heap})` : '';
      context.log(
        `big-jobs: ${name} (${env}), ${when}: RSS ${(before[name].rss / MiB).toFixed(1)} MiB without the Jobs, ${(after[name].rss / MiB).toFixed(1)} MiB with them (delta ${(delta / MB).toFixed(1)} MB); peak ${(before[name].peak / MiB).toFixed(0)} → ${(after[name].peak / MiB).toFixed(0)} MiB${heap}`,
      );
      return {
        target: `${JOBS} Jobs of 1.2 MB: ${name} RSS grows < 20 MB (${when}, lowest of ${STARTS} starts)`,
        measured: `${(delta / MB).toFixed(1)} MB (${(before[name].rss / MiB).toFixed(0)} → ${(after[name].rss / MiB).toFixed(0)} MiB)`,
        met: delta < TARGET_DELTA,
      };
    });
  } finally {
    for (const teardown of teardowns.reverse()) await teardown();
  }
}
