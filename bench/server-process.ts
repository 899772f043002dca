import { fork, type ChildProcess } from 'node:child_process';
import { BODY_LIMIT, TLS_CIPHERS } from '../src/server/app.ts';
import type { ChildReport, ParentRequest, Usage } from './server-protocol.ts';

export type ServerName = 'netguard' | 'bare';

export interface ServerProcess {
  readonly name: ServerName;
  readonly port: number;
  readonly pid: number;
  usage(): Promise<Usage>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const REPLY_TIMEOUT_MS = 10_000;

function nextReport<T extends ChildReport['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<ChildReport, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`server ${child.pid} sent no "${type}" within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: ChildReport): void => {
      if (message.type === type) finish(undefined, message as Extract<ChildReport, { type: T }>);
    };
    const onExit = (code: number | null): void => finish(new Error(`server ${child.pid} exited (${code}) while waiting for "${type}"`));
    function finish(err: Error | undefined, message?: Extract<ChildReport, { type: T }>): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (message !== undefined) resolve(message);
      else reject(err);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Forks bench/server.ts; its stdout (netguard's audit lines) goes to /dev/null, stderr to ours. */
export async function startServer(name: ServerName, options: { certs: string; exceptions: string; execArgv?: string[] }): Promise<ServerProcess> {
  const bareSettings = JSON.stringify({ ciphers: TLS_CIPHERS, bodyLimit: BODY_LIMIT });
  const child = fork(new URL('./server.ts', import.meta.url), [name, options.certs, options.exceptions, bareSettings], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: options.execArgv ?? [],
  });
  const request = (message: ParentRequest): void => {
    child.send(message);
  };
  try {
    const { port } = await nextReport(child, 'listening', START_TIMEOUT_MS);
    return {
      name,
      port,
      pid: child.pid ?? 0,
      async usage() {
        const reply = nextReport(child, 'usage', REPLY_TIMEOUT_MS);
        request({ type: 'usage' });
        const { cpuMicros, rss, maxRss } = await reply;
        return { cpuMicros, rss, maxRss };
      },
      async stop() {
        if (child.exitCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        request({ type: 'stop' });
        const timer = setTimeout(() => child.kill('SIGKILL'), REPLY_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
