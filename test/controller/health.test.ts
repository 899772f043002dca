/** Issue 24, item 6: the controller's probes and metrics, over real HTTP on loopback. */
import t from 'tap';
import { startControllerHealth } from '../../src/controller-health.ts';
import type { ControllerStatus } from '../../src/kube/controller.ts';

t.test(
  '/healthz answers while the event loop runs; /readyz is caches synced; /metrics as DESIGN lists',
  async (t) => {
    let waiting = ['namespaces cache not synced'];
    const status: ControllerStatus = {
      leader: true,
      synced: true,
      queueDepth: 3,
      reconciles: { success: 7, error: 2, 'lost-leadership': 0 },
      lastSuccessMs: 1_765_000_000_000,
    };
    const server = await startControllerHealth({
      port: 0,
      host: '127.0.0.1',
      status: () => status,
      notReady: () => waiting,
      processMetrics: false,
    });
    t.teardown(() => server.close());
    const get = async (path: string) => {
      const reply = await fetch(`${server.url.replace('localhost', '127.0.0.1')}${path}`);
      return { status: reply.status, text: await reply.text() };
    };
    t.equal((await get('/healthz')).status, 200, 'nothing about the lease: a standby is alive too');
    const notReady = await get('/readyz');
    t.equal(notReady.status, 503);
    t.same(JSON.parse(notReady.text), {
      status: 'not ready',
      waiting: ['namespaces cache not synced'],
    });
    waiting = [];
    t.equal((await get('/readyz')).status, 200);
    const metrics = (await get('/metrics')).text;
    for (const line of [
      'netguard_controller_reconciles_total{result="success"} 7',
      'netguard_controller_reconciles_total{result="error"} 2',
      'netguard_controller_queue_depth 3',
      'netguard_controller_leader 1',
      'netguard_controller_last_success_timestamp_seconds 1765000000',
    ])
      t.ok(metrics.split('\n').includes(line), line);
  },
);
