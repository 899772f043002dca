import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { BODY_LIMIT, TLS_CIPHERS } from '../src/server/app.ts';
import { usageOf, type Usage } from './proc-usage.ts';

export type ServerName = 'netguard' | 'bare';

export interface ServerProcess {
  readonly name: ServerName;
  readonly port: number;
  readonly pid: number;
  /** What was started, for the report: `node dist/cli/main.js serve ...`. */
  readonly command: string;
  usage(): Usage;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly certs: string;
  readonly ca: string;
  readonly exceptions: string;
  /** The netguard entry point: dist/cli/main.js (what the bin and an image run) or src/cli/main.ts (npm start). */
  readonly netguardMain: string;
  readonly execArgv?: readonly string[];
}

const START_TIMEOUT_MS = 30_000;
const running = new Set<number>();
// Servers never outlive the benchmark, whatever ends it.
process.on('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
process.once('SIGINT', () => process.exit(130));
const STOP_TIMEOUT_MS = 10_000;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Builds dist/ with the project's own build; when that fails (src mid-edit), netguard runs from its sources. */
export function netguardEntryPoint(log: (line: string) => void): string {
  const built = spawnSync('npm', ['run', '--silent', 'build'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (built.status === 0 && existsSync('dist/cli/main.js')) return 'dist/cli/main.js';
  log(
    `note: npm run build failed (${(built.stderr ?? '').trim().split('\n')[0] ?? built.status}); netguard runs from src/cli/main.ts with type stripping`,
  );
  return 'src/cli/main.ts';
}

function argumentsFor(name: ServerName, port: number, options: StartOptions): string[] {
  if (name === 'bare')
    return [
      'bench/bare-server.ts',
      String(port),
      options.certs,
      JSON.stringify({ ciphers: TLS_CIPHERS, bodyLimit: BODY_LIMIT }),
    ];
  // Exactly `netguard serve`: shipped policy, audit line per decision on stdout (pointed at /dev/null).
  return [
    options.netguardMain,
    'serve',
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--metrics-port',
    '0',
    '--certs',
    options.certs,
    '--exceptions',
    options.exceptions,
    '--config',
    // The shipped policy plus an approved range and kind's cluster ranges, as the scenarios expect.
    'test/fixtures/policies/lab.yaml',
  ];
}

async function waitHealthy(port: number, ca: string, exited: () => boolean): Promise<void> {
  const pool = new Pool(`https://127.0.0.1:${port}`, {
    connections: 1,
    connect: { ca, servername: 'localhost' },
    headersTimeout: 2_000,
    bodyTimeout: 2_000,
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    while (Date.now() < deadline && !exited()) {
      try {
        const reply = await pool.request({ path: '/healthz', method: 'GET' });
        await reply.body.dump();
        if (reply.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
  } finally {
    await pool.close();
  }
  throw new Error(`server on port ${port} not healthy within ${START_TIMEOUT_MS} ms`);
}

/** Starts a server as its own process (stdout to /dev/null, stderr to ours) and waits for GET /healthz. */
export async function startServer(name: ServerName, options: StartOptions): Promise<ServerProcess> {
  const port = await freePort();
  const args = [...(options.execArgv ?? []), ...argumentsFor(name, port, options)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  try {
    await waitHealthy(port, options.ca, exited);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const pid = child.pid ?? 0;
  running.add(pid);
  child.once('exit', () => running.delete(pid));
  return {
    name,
    port,
    pid,
    command: `node ${args.slice(0, name === 'bare' ? 2 : 3).join(' ')} ...`,
    usage: () => usageOf(pid),
    async stop() {
      if (exited()) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM'); // a normal exit, so --cpu-prof writes its profile
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await gone;
      clearTimeout(timer);
    },
  };
}
