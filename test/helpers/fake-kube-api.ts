/**
 * THE ONE PLACE WHERE THE KUBERNETES API SERVER IS FAKED.
 *
 * A loopback HTTPS server that answers as the real API server does, in its real shapes:
 * List objects (`kind: NamespaceList`, `metadata.resourceVersion`), watch streams of
 * newline-delimited `{"type":"ADDED","object":...}` events, `Status` objects for errors
 * (409 AlreadyExists/Conflict, 404 NotFound, 410 Gone, 500). Objects live in memory so
 * create/replace/patch/delete behave; tests can seed objects, push watch events, script
 * failures, and read back every request in order. Clients reach it through a kubeconfig
 * that trusts its CA (no TLS verification is skipped).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Test } from 'tap';
import { localCertificates } from './tls.ts';

type Obj = Record<string, any>;

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Obj | undefined;
  readonly contentType: string | undefined;
}

interface Route {
  /** `/api/v1` or `/apis/networking.k8s.io/v1` */
  readonly prefix: string;
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

const LIST_KINDS: Record<string, string> = {
  namespaces: 'NamespaceList',
  pods: 'PodList',
  networkpolicies: 'NetworkPolicyList',
  deployments: 'DeploymentList',
  statefulsets: 'StatefulSetList',
  daemonsets: 'DaemonSetList',
  replicasets: 'ReplicaSetList',
  jobs: 'JobList',
  cronjobs: 'CronJobList',
  replicationcontrollers: 'ReplicationControllerList',
  guardrailexceptions: 'GuardrailExceptionList',
  leases: 'LeaseList',
  validatingwebhookconfigurations: 'ValidatingWebhookConfigurationList',
  mutatingwebhookconfigurations: 'MutatingWebhookConfigurationList',
};

/** Parses `/api/v1/namespaces/x/pods/y` and `/apis/g/v/...` into prefix, namespace, resource, name. */
function route(pathname: string): Route | undefined {
  const parts: string[] = pathname.split('/').filter((p) => p !== '');
  let prefixParts: string[];
  if (parts[0] === 'api') prefixParts = parts.splice(0, 2);
  else if (parts[0] === 'apis') prefixParts = parts.splice(0, 3);
  else return undefined;
  const prefix = `/${prefixParts.join('/')}`;
  if (parts.at(0) === 'namespaces' && parts.length >= 3) {
    return { prefix, namespace: parts[1], resource: parts[2] ?? '', name: parts[3] };
  }
  return { prefix, namespace: undefined, resource: parts[0] ?? '', name: parts[1] };
}

function status(code: number, reason: string, message: string, details: Obj = {}): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

interface Watcher {
  readonly collection: string;
  readonly namespace: string | undefined;
  readonly res: ServerResponse;
}

export interface FakeKubeApi {
  readonly url: string;
  readonly kubeconfigPath: string;
  kubeConfig(): KubeConfig;
  /** Every request in arrival order (watch requests included). */
  readonly requests: RecordedRequest[];
  /** Requests other than GETs: the writes a controller made, in order. */
  writes(): RecordedRequest[];
  /** Puts objects in the store without a watch event (state before the client starts). */
  seed(collection: string, ...objects: Obj[]): void;
  /** Changes the store and streams the event to open watches, as another client's write would. */
  emit(collection: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Obj): void;
  /** Ends open watches on a collection with a 410 Gone ERROR event, forcing clients to relist. */
  expireWatches(collection: string): void;
  /** The next `count` requests matching method and path get this status instead. */
  failNext(method: string, pathPattern: RegExp, code: number, reason: string, count?: number): void;
  get(collection: string, namespace: string | undefined, name: string): Obj | undefined;
  list(collection: string, namespace?: string): Obj[];
  /** Resolves once a watch is open on the collection. */
  watching(collection: string): Promise<void>;
}

/** `collection` keys look like `/api/v1/namespaces` or `/apis/networking.k8s.io/v1/networkpolicies`. */
export async function startFakeKubeApi(t: Test): Promise<FakeKubeApi> {
  const certs = localCertificates();
  const store = new Map<string, Map<string, Obj>>();
  const requests: RecordedRequest[] = [];
  const watchers = new Set<Watcher>();
  const failures: { method: string; pattern: RegExp; code: number; reason: string; count: number }[] = [];
  const watchWaiters: { collection: string; resolve: () => void }[] = [];
  let resourceVersion = 1000;

  const bucket = (collection: string): Map<string, Obj> => {
    let objects = store.get(collection);
    if (objects === undefined) store.set(collection, (objects = new Map()));
    return objects;
  };
  const keyOf = (obj: Obj): string => `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  const stamp = (obj: Obj): Obj => {
    const copy = structuredClone(obj);
    copy.metadata = { ...(copy.metadata ?? {}), resourceVersion: String(++resourceVersion) };
    copy.metadata.uid ??= `uid-${resourceVersion}`;
    copy.metadata.creationTimestamp ??= '2026-11-20T10:00:00Z';
    return copy;
  };
  const notify = (collection: string, type: string, obj: Obj): void => {
    for (const watcher of watchers) {
      if (watcher.collection !== collection) continue;
      if (watcher.namespace !== undefined && obj.metadata?.namespace !== watcher.namespace) continue;
      watcher.res.write(`${JSON.stringify({ type, object: obj })}\n`);
    }
  };
  const listOf = (collection: string, namespace?: string): Obj[] =>
    [...bucket(collection).values()].filter((o) => namespace === undefined || o.metadata?.namespace === namespace);

  const send = (res: ServerResponse, code: number, body: Obj): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const method = req.method ?? 'GET';
    let body: Obj | undefined;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    requests.push({ method, path: url.pathname, query: url.searchParams, body, contentType: req.headers['content-type'] });
    const failure = failures.find((f) => f.method === method && f.pattern.test(url.pathname) && f.count > 0);
    if (failure !== undefined) {
      failure.count -= 1;
      return send(res, failure.code, status(failure.code, failure.reason, `injected ${failure.reason}`));
    }
    const r = route(url.pathname);
    if (r === undefined) return send(res, 404, status(404, 'NotFound', `the server could not find the requested resource`));
    const collection = `${r.prefix}/${r.resource}`;
    const objects = bucket(collection);
    // /api/v1/namespaces/NAME is a get of a namespace, not a namespaced list.
    const name = r.resource === 'namespaces' && r.namespace === undefined ? r.name : r.name;
    const namespace = r.resource === 'namespaces' ? undefined : r.namespace;
    const key = `${namespace ?? ''}/${name ?? ''}`;

    if (method === 'GET' && name === undefined) {
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.write('');
        const watcher: Watcher = { collection, namespace, res };
        watchers.add(watcher);
        res.on('close', () => watchers.delete(watcher));
        for (const waiter of watchWaiters.splice(0).filter((w) => { if (w.collection === collection) { w.resolve(); return false; } return true; })) watchWaiters.push(waiter);
        return;
      }
      const kind = LIST_KINDS[r.resource] ?? 'List';
      // Paged lists as the API server pages them: `limit` items, then an opaque `continue` token.
      const all = listOf(collection, namespace);
      const limit = Number(url.searchParams.get('limit') ?? '0');
      const offset = Number(Buffer.from(url.searchParams.get('continue') ?? '', 'base64url').toString() || '0');
      const items = limit > 0 ? all.slice(offset, offset + limit) : all;
      const more = limit > 0 && offset + limit < all.length;
      return send(res, 200, {
        kind,
        apiVersion: r.prefix.replace(/^\/apis?\//, ''),
        metadata: { resourceVersion: String(resourceVersion), ...(more ? { continue: Buffer.from(String(offset + limit)).toString('base64url'), remainingItemCount: all.length - offset - limit } : {}) },
        items,
      });
    }
    if (method === 'GET') {
      const found = objects.get(key);
      return found === undefined ? send(res, 404, status(404, 'NotFound', `${r.resource} "${name}" not found`, { name, kind: r.resource })) : send(res, 200, found);
    }
    if (method === 'POST') {
      const objectKey = `${namespace ?? ''}/${body?.metadata?.name ?? ''}`;
      if (objects.has(objectKey)) return send(res, 409, status(409, 'AlreadyExists', `${r.resource} "${body?.metadata?.name}" already exists`, { name: body?.metadata?.name, kind: r.resource }));
      const created = stamp({ ...body, metadata: { ...(body?.metadata ?? {}), namespace } });
      if (namespace === undefined) delete created.metadata.namespace;
      objects.set(objectKey, created);
      notify(collection, 'ADDED', created);
      return send(res, 201, created);
    }
    const existing = objects.get(key);
    if (existing === undefined) return send(res, 404, status(404, 'NotFound', `${r.resource} "${name}" not found`, { name, kind: r.resource }));
    if (method === 'PUT') {
      const wanted = body?.metadata?.resourceVersion;
      if (wanted !== undefined && wanted !== existing.metadata.resourceVersion) {
        return send(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${r.resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: r.resource }));
      }
      const replaced = stamp({ ...body, metadata: { ...body?.metadata, uid: existing.metadata.uid } });
      objects.set(key, replaced);
      notify(collection, 'MODIFIED', replaced);
      return send(res, 200, replaced);
    }
    if (method === 'PATCH') {
      const merged = stamp(mergePatch(existing, body ?? {}));
      objects.set(key, merged);
      notify(collection, 'MODIFIED', merged);
      return send(res, 200, merged);
    }
    if (method === 'DELETE') {
      objects.delete(key);
      notify(collection, 'DELETED', existing);
      return send(res, 200, existing);
    }
    return send(res, 405, status(405, 'MethodNotAllowed', `${method} is not supported`));
  };

  const server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `https://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'netguard-kube-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${url}`,
      `    certificate-authority-data: ${Buffer.from(certs.ca).toString('base64')}`,
      'users:',
      '- name: tester',
      '  user: {token: fake-token}',
      'contexts:',
      '- name: fake',
      '  context: {cluster: fake, user: tester}',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  t.teardown(async () => {
    for (const watcher of watchers) watcher.res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  return {
    url,
    kubeconfigPath,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    requests,
    writes: () => requests.filter((r) => r.method !== 'GET'),
    seed(collection, ...objects) {
      for (const obj of objects) bucket(collection).set(keyOf(obj), stamp(obj));
    },
    emit(collection, type, object) {
      const stamped = stamp(object);
      if (type === 'DELETED') bucket(collection).delete(keyOf(object));
      else bucket(collection).set(keyOf(object), stamped);
      notify(collection, type, stamped);
    },
    expireWatches(collection) {
      for (const watcher of [...watchers]) {
        if (watcher.collection !== collection) continue;
        watcher.res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') })}\n`);
        watchers.delete(watcher);
      }
    },
    failNext(method, pathPattern, code, reason, count = 1) {
      failures.push({ method, pattern: pathPattern, code, reason, count });
    },
    get: (collection, namespace, name) => bucket(collection).get(`${namespace ?? ''}/${name}`),
    list: listOf,
    watching(collection) {
      if ([...watchers].some((w) => w.collection === collection)) return Promise.resolve();
      return new Promise((resolve) => watchWaiters.push({ collection, resolve }));
    },
  };
}

/** RFC 7386 JSON merge patch (what `application/merge-patch+json` means); good enough for strategic merges of maps. */
function mergePatch(target: Obj, patch: Obj): Obj {
  const out: Obj = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (typeof value === 'object' && !Array.isArray(value) && typeof out[key] === 'object' && out[key] !== null && !Array.isArray(out[key])) out[key] = mergePatch(out[key], value);
    else out[key] = value;
  }
  return out;
}
