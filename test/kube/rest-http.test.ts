import { KubeApiError } from '../../src/errors.ts';
import { createServer, type IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import t, { type Test } from 'tap';
import { kubeRest, listAll } from '../../src/kube/rest.ts';
import { startFakeKubeApi } from '../helpers/fake-kube-api.ts';
import { localCertificates } from '../helpers/tls.ts';

const NAMESPACES = '/api/v1/namespaces';

/** `kubectl proxy` in small: plain HTTP in, the API server over TLS out, credentials added here. */
async function kubectlProxy(
  t: Test,
  upstream: string,
  seen: IncomingMessage['headers'][],
): Promise<string> {
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        ca: localCertificates().ca,
        headers: { ...req.headers, host: target.host, authorization: 'Bearer fake-token' },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
}

t.test(
  'the raw-JSON client speaks http: to kubectl proxy, and sends no credentials over it',
  async (t) => {
    const api = await startFakeKubeApi(t);
    api.seed(
      NAMESPACES,
      ...Array.from({ length: 3 }, (_, i) => ({ metadata: { name: `ns-${i}` } })),
    );
    const seen: IncomingMessage['headers'][] = [];
    const proxy = await kubectlProxy(t, api.url, seen);
    const kc = new KubeConfig();
    kc.loadFromString(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'proxy', cluster: { server: proxy } }],
        users: [{ name: 'me', user: { token: 'must-not-leak' } }],
        contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'me' } }],
        'current-context': 'proxy',
      }),
    );
    const rest = kubeRest(kc);
    t.same(
      (await listAll(rest, NAMESPACES, { limit: 2 })).map(
        (ns) => (ns['metadata'] as { name: string }).name,
      ),
      ['ns-0', 'ns-1', 'ns-2'],
      'a paged list',
    );
    const created = await rest.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop' },
    });
    t.match(created, { metadata: { name: 'shop', uid: /^uid-/ } }, 'a create');
    const error = await rest.get(`${NAMESPACES}/missing`).catch((err: unknown) => err);
    t.ok(
      error instanceof KubeApiError && error.code === 404 && error.reason === 'NotFound',
      'a Status error keeps its code and reason',
    );
    t.ok(
      seen.length >= 4 && seen.every((headers) => headers.authorization === undefined),
      'no Authorization header over plain HTTP',
    );
    t.ok(api.requests.length >= 4, 'the requests reached the API server through the proxy');
  },
);

t.test('a server URL that is neither https: nor http: is refused by name', async (t) => {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: 'c', server: 'ftp://example', skipTLSVerify: false },
    { name: 'u' },
  );
  t.throws(
    () => kubeRest(kc),
    /kubeconfig server ftp:\/\/example: expected an https: or http: URL/,
  );
});
