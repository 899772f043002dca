// Child process: runs one server under test, so its CPU and RSS are measured apart from the load generator.
// argv: <netguard|bare> <certs dir> <exceptions file> [bare settings JSON]. Speaks to the parent over IPC.
// Each server imports only its own code, so the bare endpoint's RSS is not inflated by netguard's modules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildReport, ParentRequest } from './server-protocol.ts';

const [which, certs = 'certs', exceptions = 'policies/exceptions.yaml', bareSettings = '{}'] = process.argv.slice(2);

function send(message: ChildReport): void {
  process.send?.(message);
}

async function start(): Promise<{ port: number; close(): Promise<void> }> {
  if (which === 'netguard') {
    // Exactly what `netguard serve` runs: shipped policy, audit lines on stdout (the parent points it at /dev/null).
    const { serve } = await import('../src/cli/serve.ts');
    const running = await serve({
      config: 'policies/guardrails.yaml',
      exceptions,
      port: 0,
      metricsPort: 0,
      host: '127.0.0.1',
      certs,
      logLevel: 'info',
    });
    return { port: Number(new URL(running.url).port), close: () => running.close() };
  }
  if (which === 'bare') {
    const { buildBareApp, parseBareSettings } = await import('./bare-app.ts');
    const pair = { cert: readFileSync(join(certs, 'tls.crt'), 'utf8'), key: readFileSync(join(certs, 'tls.key'), 'utf8') };
    const app = buildBareApp(pair, parseBareSettings(bareSettings));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    return { port: typeof address === 'object' && address !== null ? address.port : 0, close: () => app.close() };
  }
  throw new Error(`unknown server "${which}" (netguard or bare)`);
}

const server = await start();
send({ type: 'listening', port: server.port });

process.on('message', (message: ParentRequest) => {
  if (message.type === 'usage') {
    const cpu = process.cpuUsage();
    send({ type: 'usage', cpuMicros: cpu.user + cpu.system, rss: process.memoryUsage.rss(), maxRss: process.resourceUsage().maxRSS * 1024 });
  } else if (message.type === 'stop') {
    // A normal exit, so --cpu-prof writes its profile.
    server.close().finally(() => process.exit(0));
  }
});
// Never outlive the benchmark.
process.on('disconnect', () => process.exit(0));
