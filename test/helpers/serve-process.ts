import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Test } from 'tap';
import { runCerts } from '../../src/cli/certs.ts';

const SERVICE = {
  service: 'netguard',
  namespace: 'netguard-system',
  secretName: 'netguard-tls',
  webhookConfiguration: 'netguard',
};

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly metricsUrl: string;
  /** The CA that signed the serving pair (trusted for `netguard.netguard-system.svc`). */
  readonly ca: string;
  readonly dir: string;
  readonly exited: Promise<number | null>;
  /** Every JSON log line the process printed so far. */
  readonly logs: Record<string, unknown>[];
  /** Peak resident set size so far, in bytes (Linux: VmHWM). */
  peakRss(): number;
}

/** `netguard serve` in a child process (Node flags first), on loopback ports chosen by the OS. */
export async function startServeProcess(
  t: Test,
  options: { nodeArgs?: string[]; args?: string[] } = {},
): Promise<ServeProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'netguard-serve-'));
  const certs = await runCerts({ ...SERVICE, out: join(dir, 'tls') });
  writeFileSync(join(dir, 'exceptions.yaml'), '');
  const args = [
    'src/cli/main.ts',
    'serve',
    '--port',
    '0',
    '--metrics-port',
    '0',
    '--host',
    '127.0.0.1',
    '--certs',
    join(dir, 'tls'),
    '--exceptions',
    join(dir, 'exceptions.yaml'),
  ];
  // tap's process-info hook re-adds itself to NODE_OPTIONS of every spawn and more than triples the
  // child's heap; `env -u` drops it, so the heap measured is netguard's alone.
  const node = [process.execPath, ...(options.nodeArgs ?? []), ...args, ...(options.args ?? [])];
  const child = spawn('env', ['-u', 'NODE_OPTIONS', ...node], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const logs: Record<string, unknown>[] = [];
  let port = 0;
  let metricsUrl = '';
  const lines = createInterface({ input: child.stdout });
  if (process.env['SERVE_STDOUT'] !== undefined)
    lines.on('line', (line) => process.stderr.write(`${line}\n`));
  const ready = new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const entry: unknown = JSON.parse(line);
      if (entry === null || typeof entry !== 'object') return;
      logs.push(entry as Record<string, unknown>);
      const url = Reflect.get(entry, 'url');
      if (typeof url === 'string' && url.startsWith('https://')) port = Number(new URL(url).port);
      if (typeof url === 'string' && url.startsWith('http://')) {
        metricsUrl = url;
        resolve();
      }
    });
    void exited.then((code) =>
      reject(new Error(`netguard serve exited (${code}) before listening`)),
    );
  });
  await ready;
  return {
    child,
    port,
    metricsUrl,
    ca: certs.certificates.ca.cert,
    dir,
    exited,
    logs,
    peakRss() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? '0') * 1024;
    },
  };
}
