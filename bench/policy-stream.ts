// A worker of bench/hostile.ts: posts one large review body again and again until told to stop,
// in its own thread so the measuring thread's latencies are the server's, not the sender's.
import { Agent, request } from 'node:https';
import { parentPort, workerData } from 'node:worker_threads';

interface StreamData {
  readonly port: number;
  readonly ca: string;
  readonly body: string;
}

const { port, ca, body } = workerData as StreamData;
const agent = new Agent({ keepAlive: true, ca, maxSockets: 1 });
let running = true;
parentPort?.on('message', () => {
  running = false;
});

function postOnce(): Promise<{ ms: number; text: string; status: number | string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/validate',
        method: 'POST',
        agent,
        servername: 'localhost',
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            ms: performance.now() - started,
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ ms: performance.now() - started, status: err.code ?? err.message, text: '' }),
    );
    req.end(body);
  });
}

while (running) {
  const reply = await postOnce();
  parentPort?.postMessage({
    ms: reply.ms,
    status: reply.status,
    bound: /netguard review bound at request\.object/.test(reply.text),
  });
}
agent.destroy();
parentPort?.close();
