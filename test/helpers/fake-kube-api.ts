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
 *
 * Optionally, as a real cluster does: users authenticated by bearer token (`users`), every request
 * authorized by RBAC over real ClusterRole/Role/binding objects (`rbac`, aggregation included;
 * refused with 403 Forbidden in the API server's words), SelfSubjectReview, and an admission chain
 * (`admission`) that sees each write before it is stored and may patch, warn or deny it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Test } from 'tap';
import { request as httpsRequest } from 'node:https';
import { localCertificates } from './tls.ts';

const SELF_SUBJECT_REVIEWS = '/apis/authentication.k8s.io/v1/selfsubjectreviews';

type Obj = Record<string, any>;

export interface UserInfo {
  readonly username: string;
  readonly groups: readonly string[];
}

/** A write as the admission chain sees it (the fields of an AdmissionReview request). */
export interface AdmissionAttempt {
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly object: Obj | undefined;
  readonly oldObject: Obj | undefined;
  readonly user: UserInfo;
}

/** Admitted (possibly mutated), or refused with the Status the API server returns. */
export type AdmissionOutcome =
  | {
      readonly allowed: true;
      readonly object?: Obj | undefined;
      readonly warnings?: readonly string[];
    }
  | {
      readonly allowed: false;
      readonly code: number;
      readonly reason: string;
      readonly message: string;
      readonly warnings?: readonly string[];
    };

export interface FakeKubeApiOptions {
  /** Bearer token → user. Set, and a request without a known token is 401. */
  readonly users?: Readonly<Record<string, UserInfo>>;
  /** ClusterRoles, Roles, ClusterRoleBindings and RoleBindings. Set, and every request is authorized by them. */
  readonly rbac?: readonly Obj[];
  readonly admission?: (attempt: AdmissionAttempt) => Promise<AdmissionOutcome>;
}

/** What a client sees of a reply, warnings included (the `Warning: 299 - "..."` headers). */
export interface RawReply {
  readonly status: number;
  readonly body: Obj | undefined;
  readonly warnings: readonly string[];
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Obj | undefined;
  readonly contentType: string | undefined;
  /** The authenticated user, when `users` is set. */
  readonly user?: string | undefined;
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
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    details,
    code,
  };
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
  /** A kubeconfig that authenticates with this bearer token (see `users`). */
  kubeconfigFor(token: string): string;
  /** One request with this token, as kubectl would send it; warnings come back as kubectl prints them. */
  send(token: string, method: string, path: string, body?: Obj): Promise<RawReply>;
}

/** `collection` keys look like `/api/v1/namespaces` or `/apis/networking.k8s.io/v1/networkpolicies`. */
export async function startFakeKubeApi(
  t: Test,
  options: FakeKubeApiOptions = {},
): Promise<FakeKubeApi> {
  const certs = localCertificates();
  const store = new Map<string, Map<string, Obj>>();
  const requests: RecordedRequest[] = [];
  const watchers = new Set<Watcher>();
  const failures: {
    method: string;
    pattern: RegExp;
    code: number;
    reason: string;
    count: number;
  }[] = [];
  const rbac = options.rbac === undefined ? undefined : authorizer(options.rbac);
  const watchWaiters: { collection: string; resolve: () => void }[] = [];
  let resourceVersion = 1000;

  const bucket = (collection: string): Map<string, Obj> => {
    let objects = store.get(collection);
    if (objects === undefined) store.set(collection, (objects = new Map()));
    return objects;
  };
  const keyOf = (obj: Obj): string =>
    `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
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
      if (watcher.namespace !== undefined && obj.metadata?.namespace !== watcher.namespace)
        continue;
      watcher.res.write(`${JSON.stringify({ type, object: obj })}\n`);
    }
  };
  const listOf = (collection: string, namespace?: string): Obj[] =>
    [...bucket(collection).values()].filter(
      (o) => namespace === undefined || o.metadata?.namespace === namespace,
    );

  const send = (res: ServerResponse, code: number, body: Obj): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const method = req.method ?? 'GET';
    let body: Obj | undefined;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const user =
      options.users === undefined
        ? undefined
        : token === undefined
          ? undefined
          : options.users[token];
    requests.push({
      method,
      path: url.pathname,
      query: url.searchParams,
      body,
      contentType: req.headers['content-type'],
      user: user?.username,
    });
    if (options.users !== undefined && user === undefined)
      return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    if (user !== undefined && url.pathname === SELF_SUBJECT_REVIEWS && method === 'POST') {
      return send(res, 201, {
        ...body,
        status: {
          userInfo: { username: user.username, groups: [...user.groups, 'system:authenticated'] },
        },
      });
    }
    const failure = failures.find(
      (f) => f.method === method && f.pattern.test(url.pathname) && f.count > 0,
    );
    if (failure !== undefined) {
      failure.count -= 1;
      return send(
        res,
        failure.code,
        status(failure.code, failure.reason, `injected ${failure.reason}`),
      );
    }
    const r = route(url.pathname);
    if (r === undefined)
      return send(
        res,
        404,
        status(404, 'NotFound', `the server could not find the requested resource`),
      );
    const collection = `${r.prefix}/${r.resource}`;
    const objects = bucket(collection);
    // /api/v1/namespaces/NAME is a get of a namespace, not a namespaced list.
    const name = r.resource === 'namespaces' && r.namespace === undefined ? r.name : r.name;
    const namespace = r.resource === 'namespaces' ? undefined : r.namespace;
    const key = `${namespace ?? ''}/${name ?? ''}`;
    if (user !== undefined && rbac !== undefined) {
      const verb = verbOf(method, name, url.searchParams);
      const { group } = groupVersion(r.prefix);
      const denied = rbac.refusal(user, {
        verb,
        group,
        resource: r.resource,
        namespace,
        name: name ?? (method === 'POST' ? body?.metadata?.name : undefined),
      });
      if (denied !== undefined) return send(res, 403, denied);
    }

    if (method === 'GET' && name === undefined) {
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.write('');
        const watcher: Watcher = { collection, namespace, res };
        watchers.add(watcher);
        res.on('close', () => watchers.delete(watcher));
        for (const waiter of watchWaiters.splice(0).filter((w) => {
          if (w.collection === collection) {
            w.resolve();
            return false;
          }
          return true;
        }))
          watchWaiters.push(waiter);
        return;
      }
      const kind = LIST_KINDS[r.resource] ?? 'List';
      // Paged lists as the API server pages them: `limit` items, then an opaque `continue` token.
      const all = listOf(collection, namespace);
      const limit = Number(url.searchParams.get('limit') ?? '0');
      const offset = Number(
        Buffer.from(url.searchParams.get('continue') ?? '', 'base64url').toString() || '0',
      );
      const items = limit > 0 ? all.slice(offset, offset + limit) : all;
      const more = limit > 0 && offset + limit < all.length;
      return send(res, 200, {
        kind,
        apiVersion: r.prefix.replace(/^\/apis?\//, ''),
        metadata: {
          resourceVersion: String(resourceVersion),
          ...(more
            ? {
                continue: Buffer.from(String(offset + limit)).toString('base64url'),
                remainingItemCount: all.length - offset - limit,
              }
            : {}),
        },
        items,
      });
    }
    if (method === 'GET') {
      const found = objects.get(key);
      return found === undefined
        ? send(
            res,
            404,
            status(404, 'NotFound', `${r.resource} "${name}" not found`, {
              name,
              kind: r.resource,
            }),
          )
        : send(res, 200, found);
    }
    const admit = async (
      operation: AdmissionAttempt['operation'],
      object: Obj | undefined,
      oldObject: Obj | undefined,
    ): Promise<Obj | undefined | false> => {
      if (options.admission === undefined || user === undefined) return object;
      const { group, version } = groupVersion(r.prefix);
      const outcome = await options.admission({
        operation,
        group,
        version,
        resource: r.resource,
        kind: String((object ?? oldObject)?.kind ?? ''),
        namespace,
        name: String((object ?? oldObject)?.metadata?.name ?? ''),
        object,
        oldObject,
        user,
      });
      // Header values are Latin-1: anything past it travels as a JSON \u escape.
      const quoted = (text: string): string =>
        JSON.stringify(text).replace(
          /[\u0100-\uffff]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        );
      for (const warning of outcome.warnings ?? [])
        res.appendHeader('warning', `299 - ${quoted(warning)}`);
      if (outcome.allowed) return outcome.object ?? object;
      send(res, outcome.code, status(outcome.code, outcome.reason, outcome.message));
      return false;
    };
    if (method === 'POST') {
      const objectKey = `${namespace ?? ''}/${body?.metadata?.name ?? ''}`;
      if (objects.has(objectKey))
        return send(
          res,
          409,
          status(409, 'AlreadyExists', `${r.resource} "${body?.metadata?.name}" already exists`, {
            name: body?.metadata?.name,
            kind: r.resource,
          }),
        );
      const admitted = await admit(
        'CREATE',
        {
          ...body,
          metadata: {
            ...(body?.metadata ?? {}),
            ...(namespace === undefined ? {} : { namespace }),
          },
        },
        undefined,
      );
      if (admitted === false) return;
      const created = stamp({
        ...admitted,
        metadata: { ...(admitted?.metadata ?? {}), namespace },
      });
      if (namespace === undefined) delete created.metadata.namespace;
      objects.set(objectKey, created);
      notify(collection, 'ADDED', created);
      return send(res, 201, created);
    }
    const existing = objects.get(key);
    if (existing === undefined)
      return send(
        res,
        404,
        status(404, 'NotFound', `${r.resource} "${name}" not found`, { name, kind: r.resource }),
      );
    // A resourceVersion in the body is a precondition (PUT and merge PATCH), as on the real server.
    const stale = (wanted: unknown, current: unknown): boolean =>
      wanted !== undefined && wanted !== current;
    const conflict = (resource: string, objectName: string | undefined) =>
      status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${resource} "${objectName}": the object has been modified; please apply your changes to the latest version and try again`,
        { name: objectName, kind: resource },
      );
    if (method === 'PUT') {
      if (stale(body?.metadata?.resourceVersion, existing.metadata.resourceVersion)) {
        return send(res, 409, conflict(r.resource, name));
      }
      const admitted = await admit(
        'UPDATE',
        { ...body, metadata: { ...body?.metadata, uid: existing.metadata.uid } },
        existing,
      );
      if (admitted === false) return;
      const replaced = stamp({
        ...admitted,
        metadata: { ...admitted?.metadata, uid: existing.metadata.uid },
      });
      objects.set(key, replaced);
      notify(collection, 'MODIFIED', replaced);
      return send(res, 200, replaced);
    }
    if (method === 'PATCH') {
      if (stale(body?.metadata?.resourceVersion, existing.metadata.resourceVersion)) {
        return send(res, 409, conflict(r.resource, name));
      }
      const admitted = await admit('UPDATE', mergePatch(existing, body ?? {}), existing);
      if (admitted === false) return;
      const merged = stamp(admitted ?? existing);
      objects.set(key, merged);
      notify(collection, 'MODIFIED', merged);
      return send(res, 200, merged);
    }
    if (method === 'DELETE') {
      if ((await admit('DELETE', undefined, existing)) === false) return;
      objects.delete(key);
      notify(collection, 'DELETED', existing);
      return send(res, 200, existing);
    }
    return send(res, 405, status(405, 'MethodNotAllowed', `${method} is not supported`));
  };

  const server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) => {
        if (!res.headersSent)
          send(res, 500, status(500, 'InternalError', `fake API server: ${String(err)}`));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `https://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'netguard-kube-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const writeKubeconfig = (path: string, token: string): void =>
    writeFileSync(
      path,
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
        `  user: {token: ${token}}`,
        'contexts:',
        '- name: fake',
        '  context: {cluster: fake, user: tester}',
        'current-context: fake',
        '',
      ].join('\n'),
    );
  writeKubeconfig(kubeconfigPath, 'fake-token');
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
        watcher.res.end(
          `${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') })}\n`,
        );
        watchers.delete(watcher);
      }
    },
    failNext(method, pathPattern, code, reason, count = 1) {
      failures.push({ method, pattern: pathPattern, code, reason, count });
    },
    get: (collection, namespace, name) => bucket(collection).get(`${namespace ?? ''}/${name}`),
    list: listOf,
    kubeconfigFor(token) {
      const path = join(dir, `kubeconfig-${token.replace(/[^\w-]/g, '_')}`);
      writeKubeconfig(path, token);
      return path;
    },
    send: (token, method, path, body) => rawRequest(url, certs.ca, token, method, path, body),
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
    else if (
      typeof value === 'object' &&
      !Array.isArray(value) &&
      typeof out[key] === 'object' &&
      out[key] !== null &&
      !Array.isArray(out[key])
    )
      out[key] = mergePatch(out[key], value);
    else out[key] = value;
  }
  return out;
}

/** `/api/v1` → core v1; `/apis/apps/v1` → apps v1. */
function groupVersion(prefix: string): { group: string; version: string } {
  const parts = prefix.split('/').filter((p) => p !== '');
  return parts[0] === 'api'
    ? { group: '', version: parts[1] ?? '' }
    : { group: parts[1] ?? '', version: parts[2] ?? '' };
}

/** The RBAC verb of a request, as the API server's request-info resolver names it. */
function verbOf(method: string, name: string | undefined, query: URLSearchParams): string {
  if (method === 'GET')
    return name !== undefined
      ? 'get'
      : query.get('watch') === 'true' || query.get('watch') === '1'
        ? 'watch'
        : 'list';
  return (
    ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[
      method
    ] ?? method.toLowerCase()
  );
}

interface Attributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

const labelsMatch = (selector: Obj, labels: Obj): boolean =>
  Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels?.[key] === value);

/**
 * RBAC as kube-apiserver's authorizer evaluates it: a request is allowed when a rule of a role bound
 * to the user (or one of their groups, `system:authenticated` included) covers verb, API group,
 * resource and (if the rule lists any) resource name; a RoleBinding only in its namespace.
 * ClusterRoles with an aggregationRule carry the rules of every ClusterRole their selectors match.
 */
function authorizer(objects: readonly Obj[]) {
  const clusterRoles = objects.filter((o) => o.kind === 'ClusterRole');
  const rulesOfClusterRole = (name: string): Obj[] => {
    const role = clusterRoles.find((o) => o.metadata?.name === name);
    if (role === undefined) return [];
    const aggregated = (role.aggregationRule?.clusterRoleSelectors ?? []).flatMap((selector: Obj) =>
      clusterRoles
        .filter((other) => other !== role && labelsMatch(selector, other.metadata?.labels ?? {}))
        .flatMap((other) => other.rules ?? []),
    );
    return [...(role.rules ?? []), ...aggregated];
  };
  const rulesOfRef = (ref: Obj, namespace: string | undefined): Obj[] =>
    ref.kind === 'ClusterRole'
      ? rulesOfClusterRole(ref.name)
      : (objects.find(
          (o) =>
            o.kind === 'Role' &&
            o.metadata?.name === ref.name &&
            o.metadata?.namespace === namespace,
        )?.rules ?? []);
  const has = (list: readonly string[] | undefined, value: string): boolean =>
    (list ?? []).includes('*') || (list ?? []).includes(value);
  const covers = (rule: Obj, a: Attributes): boolean =>
    has(rule.verbs, a.verb) &&
    has(rule.apiGroups, a.group) &&
    has(rule.resources, a.resource) &&
    (rule.resourceNames === undefined ||
      (a.name !== undefined && rule.resourceNames.includes(a.name)));
  const subjectOf =
    (user: UserInfo) =>
    (subject: Obj): boolean =>
      (subject.kind === 'User' && subject.name === user.username) ||
      (subject.kind === 'Group' &&
        [...user.groups, 'system:authenticated'].includes(subject.name)) ||
      (subject.kind === 'ServiceAccount' &&
        user.username === `system:serviceaccount:${subject.namespace}:${subject.name}`);
  return {
    refusal(user: UserInfo, a: Attributes): Obj | undefined {
      const bindings = objects.filter(
        (o) =>
          (o.kind === 'ClusterRoleBinding' ||
            (o.kind === 'RoleBinding' && o.metadata?.namespace === a.namespace)) &&
          (o.subjects ?? []).some(subjectOf(user)),
      );
      if (
        bindings.some((b) =>
          rulesOfRef(b.roleRef, b.metadata?.namespace).some((rule) => covers(rule, a)),
        )
      )
        return undefined;
      const groupResource = a.group === '' ? a.resource : `${a.resource}.${a.group}`;
      const subject = a.name === undefined ? groupResource : `${groupResource} "${a.name}"`;
      const scope =
        a.namespace === undefined ? 'at the cluster scope' : `in the namespace "${a.namespace}"`;
      return status(
        403,
        'Forbidden',
        `${subject} is forbidden: User "${user.username}" cannot ${a.verb} resource "${a.resource}" in API group "${a.group}" ${scope}`,
        {
          ...(a.name === undefined ? {} : { name: a.name }),
          group: a.group,
          kind: a.resource,
        },
      );
    },
  };
}

/** One request over TLS trusting only the fake's CA; warnings decoded from `299 - "text"` headers. */
function rawRequest(
  base: string,
  ca: string,
  token: string,
  method: string,
  path: string,
  body?: Obj,
): Promise<RawReply> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        ca,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
          ...(payload === undefined ? {} : { 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const header = res.headers.warning;
          const warnings = (header === undefined ? [] : Array.isArray(header) ? header : [header])
            .flatMap((value) => value.split(/,(?=\s*299 )/))
            .map((value) => JSON.parse(value.trim().replace(/^299 - /, '')) as string);
          resolve({
            status: res.statusCode ?? 0,
            body: text === '' ? undefined : JSON.parse(text),
            warnings,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
