import { get } from 'node:https';
import t from 'tap';
import { apiServer } from './api-server.ts';
import { startServeProcess } from '../helpers/serve-process.ts';
import { renderDeploy } from './netguard.ts';
import { IDLE_CONN_TIMEOUT_MS } from './webhook-client.ts';
import { skipFileWithoutKubectl } from '../helpers/kubectl.ts';

skipFileWithoutKubectl(t);

const rendered = renderDeploy();
const CLUSTER_IP = '10.96.183.24';

/** The response headers of GET /healthz over a fresh connection. */
function healthHeaders(
  port: number,
  ca: string,
): Promise<Record<string, string | string[] | undefined>> {
  return new Promise((resolve, reject) => {
    get(
      {
        host: '127.0.0.1',
        port,
        path: '/healthz',
        ca,
        servername: 'netguard.netguard-system.svc',
        agent: false,
        headers: { connection: 'keep-alive' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers));
      },
    ).on('error', reject);
  });
}

t.test(
  "SIGTERM with the API server's pooled connections open: prompt exit 0, connections closed cleanly",
  async (t) => {
    // The drain window: open connections keep being answered this long after SIGTERM.
    const { child, port, ca, exited } = await startServeProcess(t, {
      args: ['--drain-seconds', '1'],
    });
    t.ok(port > 0, 'listening');
    const announced = Number(
      /timeout=(\d+)/.exec(String((await healthHeaders(port, ca))['keep-alive']))?.[1],
    );
    t.ok(
      announced * 1000 > IDLE_CONN_TIMEOUT_MS,
      `netguard serve keeps idle connections ${announced} s, longer than the API server's 90 s`,
    );

    const kubectl = apiServer({
      rendered,
      caBundle: Buffer.from(ca).toString('base64'),
      clusterIP: CLUSTER_IP,
      service: () => ({ host: '127.0.0.1', port }),
    });
    t.teardown(() => kubectl.close());
    // Four reviews at once: four pooled connections, left open and idle.
    const names = ['prod-a', 'prod-b', 'prod-c', 'prod-d'];
    const created = await Promise.all(
      names.map((name) =>
        kubectl.apply(
          `${name}.yaml`,
          `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`,
        ),
      ),
    );
    t.same(
      created.map((r) => r.lines),
      names.map((name) => [`namespace/${name} created`]),
    );
    t.equal(kubectl.connectionsOpened, 4, 'four keep-alive connections in the pool');

    const started = Date.now();
    child.kill('SIGTERM');
    // After SIGTERM the API server may still write on a pooled connection: it is answered, not reset.
    const late = await kubectl.apply(
      'prod-late.yaml',
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: prod-late}\n',
    );
    t.same(
      late.lines,
      ['namespace/prod-late created'],
      'a review on a kept-alive connection after SIGTERM is answered',
    );
    t.equal(kubectl.connectionsOpened, 4, 'on a connection already in the pool');
    t.equal(await exited, 0, 'exit 0');
    const took = Date.now() - started;
    t.ok(
      took < 5_000,
      `exited in ${took} ms: the 1 s drain window, not the idle connections' 90 s`,
    );

    // The pool saw every connection closed: the next review dials (and is refused), no EOF.
    t.same(
      (
        await kubectl.apply(
          'prod-e.yaml',
          'apiVersion: v1\nkind: Namespace\nmetadata: {name: prod-e}\n',
        )
      ).lines,
      [
        'Error from server (InternalError): error when creating "prod-e.yaml": Internal error occurred: failed calling webhook "mutate.netguard.dev": ' +
          `failed to call webhook: Post "https://netguard.netguard-system.svc:443/mutate?timeout=10s": dial tcp ${CLUSTER_IP}:443: connect: connection refused`,
      ],
    );
    t.equal(kubectl.connectionsOpened, 5, 'a fresh dial, not a dead pooled connection');
  },
);
