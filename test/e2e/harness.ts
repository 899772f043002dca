/**
 * Acts as the Kubernetes API server's admission chain for the webhook configurations in deploy/:
 * decides which webhook a request reaches (rules, operations, scope, namespaceSelector,
 * objectSelector, matchConditions), calls it over TLS trusting only its caBundle (hostname checked
 * against the Service DNS name), honours timeoutSeconds and failurePolicy, checks replies as the API
 * server does, applies mutating patches, then persists the object in the fake API server (so
 * netguard's own caches see it) and prints what kubectl would print.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import jsonpatch from 'fast-json-patch';
import { parseAllDocuments } from 'yaml';
import type { FakeKubeApi } from '../helpers/fake-kube-api.ts';

type Obj = Record<string, any>;

interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const RESOURCES: Record<string, Resource> = {
  Namespace: { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  Pod: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  ReplicationController: { group: '', version: 'v1', plural: 'replicationcontrollers', namespaced: true },
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  StatefulSet: { group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true },
  ReplicaSet: { group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true },
  Job: { group: 'batch', version: 'v1', plural: 'jobs', namespaced: true },
  CronJob: { group: 'batch', version: 'v1', plural: 'cronjobs', namespaced: true },
  NetworkPolicy: { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', namespaced: true },
  GuardrailException: { group: 'netguard.dev', version: 'v1alpha1', plural: 'guardrailexceptions', namespaced: true },
};

const collectionOf = (r: Resource): string => `${r.group === '' ? '/api' : `/apis/${r.group}`}/${r.version}/${r.plural}`;

export interface WebhookCall {
  readonly webhook: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly operation: string;
}

export interface ApplyResult {
  /** What kubectl prints on stdout (`deployment.apps/web created`). */
  readonly stdout: string[];
  /** What kubectl prints on stderr (`Warning: ...`, `Error from server ...`). */
  readonly stderr: string[];
  readonly ok: boolean;
}

export interface HarnessOptions {
  readonly api: FakeKubeApi;
  /** Rendered ValidatingWebhookConfiguration and MutatingWebhookConfiguration objects. */
  readonly configurations: readonly Obj[];
  /** Where a Service's port really listens (the harness has no kube-proxy). */
  resolve(service: { name: string; namespace: string; port: number }): { host: string; port: number };
  readonly user?: { username: string; groups: string[] };
}

export interface ApiServerHarness {
  /** `kubectl apply -f FILE` with FILE's text (multi-document YAML). */
  apply(file: string, text: string): Promise<ApplyResult>;
  /** Every webhook call made, in order. */
  readonly calls: WebhookCall[];
}

function matchesSelector(selector: Obj | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expr of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expr.key);
    const ok =
      expr.operator === 'In' ? has && expr.values.includes(labels[expr.key]) :
      expr.operator === 'NotIn' ? !has || !expr.values.includes(labels[expr.key]) :
      expr.operator === 'Exists' ? has :
      expr.operator === 'DoesNotExist' ? !has : undefined;
    if (ok === undefined) throw new Error(`unknown selector operator ${expr.operator}`);
    if (!ok) return false;
  }
  return true;
}

const walk = (root: Obj, path: string): unknown => path.split('.').reduce<any>((value, key) => (value === undefined || value === null ? undefined : value[key]), root);

/**
 * The CEL the shipped matchConditions use: `||`, `&&`, and `request.a.b == 'x'` / `!= 'x'`.
 * Anything else throws, so a richer expression in deploy/ fails the tests instead of being misread.
 */
export function evaluateMatchCondition(expression: string, vars: Obj): boolean {
  return expression.split('||').some((conjunction) =>
    conjunction.split('&&').every((term) => {
      const m = /^\s*([a-zA-Z][\w.]*)\s*(==|!=)\s*'([^']*)'\s*$/.exec(term);
      if (m === null) throw new Error(`the harness cannot evaluate CEL term: ${term.trim()}`);
      const [, path = '', op, literal] = m;
      const equal = walk(vars, path) === literal;
      return op === '==' ? equal : !equal;
    }),
  );
}

function ruleMatches(rule: Obj, r: Resource, operation: string): boolean {
  const has = (list: string[] | undefined, value: string): boolean => (list ?? []).includes('*') || (list ?? []).includes(value);
  const scope = rule.scope ?? '*';
  const scopeOk = scope === '*' || (scope === 'Namespaced') === r.namespaced;
  return has(rule.operations, operation) && has(rule.apiGroups, r.group) && has(rule.apiVersions, r.version) && has(rule.resources, r.plural) && scopeOk;
}

interface Call {
  readonly response?: Obj;
  readonly failure?: string;
}

function post(url: { host: string; port: number; servername: string; path: string }, ca: string, body: Obj, timeoutSeconds: number): Promise<Call> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const req = request(
      { host: url.host, port: url.port, servername: url.servername, path: url.path, method: 'POST', ca, timeout: timeoutSeconds * 1000, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return resolve({ failure: `received invalid webhook response: status ${res.statusCode}: ${text}` });
          try {
            resolve({ response: JSON.parse(text) });
          } catch {
            resolve({ failure: 'received invalid webhook response: not JSON' });
          }
        });
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve({ failure: `failed to call webhook: Post "https://${url.servername}:443${url.path}?timeout=${timeoutSeconds}s": context deadline exceeded` });
    });
    req.on('error', (err) => resolve({ failure: `failed to call webhook: Post "https://${url.servername}:443${url.path}?timeout=${timeoutSeconds}s": ${err.message}` }));
    req.end(payload);
  });
}

class KubectlError extends Error {}

export function apiServerHarness(options: HarnessOptions): ApiServerHarness {
  const { api } = options;
  const calls: WebhookCall[] = [];
  const user = options.user ?? { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
  const webhooks = (kind: string): Obj[] => options.configurations.filter((c) => c.kind === kind).flatMap((c) => c.webhooks ?? []);

  const matching = (webhook: Obj, r: Resource, operation: string, object: Obj, namespaceLabels: Record<string, string> | undefined, request: Obj): boolean => {
    if (!webhook.rules.some((rule: Obj) => ruleMatches(rule, r, operation))) return false;
    // Namespaced objects: the namespace's labels; a Namespace: its own; other cluster-scoped objects: always.
    const labels = r.plural === 'namespaces' ? (object.metadata?.labels ?? {}) : namespaceLabels;
    if (labels !== undefined && !matchesSelector(webhook.namespaceSelector, labels)) return false;
    if (!matchesSelector(webhook.objectSelector, object.metadata?.labels ?? {})) return false;
    return (webhook.matchConditions ?? []).every((c: Obj) => evaluateMatchCondition(c.expression, { request }));
  };

  const call = async (webhook: Obj, review: Obj, mutating: boolean): Promise<Obj> => {
    const service = webhook.clientConfig.service;
    const target = options.resolve({ name: service.name, namespace: service.namespace, port: service.port ?? 443 });
    const ca = Buffer.from(webhook.clientConfig.caBundle ?? '', 'base64').toString('utf8');
    calls.push({ webhook: webhook.name, kind: review.request.kind.kind, namespace: review.request.namespace ?? '', name: review.request.name, operation: review.request.operation });
    const result = await post({ ...target, servername: `${service.name}.${service.namespace}.svc`, path: service.path ?? '/' }, ca, review, webhook.timeoutSeconds ?? 10);
    const failure = result.failure ?? checkReply(result.response ?? {}, review.request.uid, mutating);
    if (failure === undefined) return result.response?.response ?? {};
    if (webhook.failurePolicy === 'Ignore') return { allowed: true };
    throw new KubectlError(`Error from server (InternalError): error when %VERB% "%FILE%": Internal error occurred: failed calling webhook "${webhook.name}": ${failure}`);
  };

  const admit = async (object: Obj, file: string): Promise<{ line: string; warnings: string[] }> => {
    const r = RESOURCES[object.kind];
    if (r === undefined) throw new Error(`the harness does not know kind ${object.kind}`);
    object.metadata ??= {};
    const name: string = object.metadata.name;
    const namespace: string | undefined = r.namespaced ? (object.metadata.namespace ?? 'default') : undefined;
    if (namespace !== undefined) object.metadata.namespace = namespace;
    // The API server defaults this label before admission, and always to the name.
    if (r.plural === 'namespaces') object.metadata.labels = { ...(object.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
    const collection = collectionOf(r);
    const existing = api.get(collection, namespace, name);
    const operation = existing === undefined ? 'CREATE' : 'UPDATE';
    const verb = operation === 'CREATE' ? 'creating' : 'applying';
    const namespaceLabels = namespace === undefined ? undefined : api.get('/api/v1/namespaces', undefined, namespace)?.metadata?.labels;
    if (namespace !== undefined && namespaceLabels === undefined) {
      throw new KubectlError(`Error from server (NotFound): error when ${verb} "${file}": namespaces "${namespace}" not found`);
    }
    const gvk = { group: r.group, version: r.version, kind: object.kind };
    const gvr = { group: r.group, version: r.version, resource: r.plural };
    const reviewOf = (current: Obj): Obj => ({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: randomUUID(), kind: gvk, resource: gvr, requestKind: gvk, requestResource: gvr, name,
        namespace: r.plural === 'namespaces' ? name : namespace,
        operation, userInfo: { username: user.username, uid: randomUUID(), groups: user.groups },
        object: current, oldObject: existing ?? null, dryRun: false,
        options: { apiVersion: 'meta.k8s.io/v1', kind: operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions', fieldManager: 'kubectl-client-side-apply' },
      },
    });
    const warnings: string[] = [];
    let current = object;
    const withVerb = async <T>(run: () => Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (err) {
        if (err instanceof KubectlError) throw new KubectlError(err.message.replace('%VERB%', verb).replace('%FILE%', file));
        throw err;
      }
    };
    for (const phase of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'] as const) {
      for (const webhook of webhooks(phase)) {
        const review = reviewOf(current);
        if (!matching(webhook, r, operation, current, namespaceLabels, review.request)) continue;
        const response = await withVerb(() => call(webhook, review, phase === 'MutatingWebhookConfiguration'));
        warnings.push(...(response.warnings ?? []));
        if (response.allowed !== true) {
          const status = response.status ?? {};
          const reason = status.reason ?? 'Forbidden';
          const message = status.message ? `admission webhook "${webhook.name}" denied the request: ${status.message}` : `admission webhook "${webhook.name}" denied the request without explanation`;
          throw Object.assign(new KubectlError(`Error from server (${reason}): error when ${verb} "${file}": ${message}`), { warnings });
        }
        if (response.patch !== undefined) {
          const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
          current = jsonpatch.applyPatch(structuredClone(current), patch, true).newDocument;
        }
      }
    }
    api.emit(collection, operation === 'CREATE' ? 'ADDED' : 'MODIFIED', current);
    const shown = `${object.kind.toLowerCase()}${r.group === '' ? '' : `.${r.group}`}/${name}`;
    return { line: `${shown} ${operation === 'CREATE' ? 'created' : 'configured'}`, warnings };
  };

  return {
    calls,
    async apply(file, text) {
      const stdout: string[] = [];
      const stderr: string[] = [];
      let ok = true;
      for (const doc of parseAllDocuments(text)) {
        const object = doc.toJS() as Obj | null;
        if (object === null) continue;
        try {
          const admitted = await admit(object, file);
          stderr.push(...admitted.warnings.map((w) => `Warning: ${w}`));
          stdout.push(admitted.line);
        } catch (err) {
          if (!(err instanceof KubectlError)) throw err;
          const warnings: string[] = (err as KubectlError & { warnings?: string[] }).warnings ?? [];
          stderr.push(...warnings.map((w) => `Warning: ${w}`), err.message);
          ok = false;
        }
      }
      return { stdout, stderr, ok };
    },
  };
}

/** The API server's checks of a webhook's reply; a failure here is treated like a failed call. */
function checkReply(reply: Obj, uid: string, mutating: boolean): string | undefined {
  if (reply.apiVersion !== 'admission.k8s.io/v1' || reply.kind !== 'AdmissionReview') return `expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${reply.apiVersion}, Kind=${reply.kind}`;
  const response = reply.response;
  if (response === undefined || response === null) return 'webhook response was absent';
  if (response.uid !== uid) return `expected response.uid="${uid}", got "${response.uid}"`;
  if (typeof response.allowed !== 'boolean') return 'response.allowed is not a boolean';
  if (!mutating && (response.patch !== undefined || response.patchType !== undefined)) return 'validating webhook may not return a patch';
  if (response.patch !== undefined && response.patchType !== 'JSONPatch') return `unsupported patch type "${response.patchType}"`;
  return undefined;
}
