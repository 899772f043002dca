/**
 * Plays the Kubernetes API server's admission chain for the webhook configurations rendered from
 * deploy/: decides which webhooks a request reaches (rules, scope, namespaceSelector, objectSelector,
 * matchConditions), calls the mutating ones in order and then the validating ones over TLS, trusting
 * only the caBundle and checking the Service DNS name, honours timeoutSeconds and failurePolicy,
 * checks each reply as the API server does, applies JSON patches, stores what was admitted, and
 * prints the outcome as kubectl does. No cluster, no Docker: a test stand-in for kube-apiserver.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import jsonpatch from 'fast-json-patch';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

export type KubeObject = Record<string, unknown>;
type Operation = 'CREATE' | 'UPDATE' | 'DELETE';
type Labels = Record<string, string>;

const selectorSchema = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(z.strictObject({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).optional() }))
    .optional(),
});
type LabelSelector = z.infer<typeof selectorSchema>;

const ruleSchema = z.strictObject({
  apiGroups: z.array(z.string()),
  apiVersions: z.array(z.string()),
  resources: z.array(z.string()),
  operations: z.array(z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT', '*'])),
  scope: z.enum(['Cluster', 'Namespaced', '*']).default('*'),
});
type RuleWithOperations = z.infer<typeof ruleSchema>;

/** The fields of admissionregistration.k8s.io/v1 webhooks, with the API server's defaults. */
const webhookSchema = z.strictObject({
  name: z.string(),
  clientConfig: z.strictObject({
    service: z.strictObject({ name: z.string(), namespace: z.string(), path: z.string().default('/'), port: z.number().int().default(443) }),
    caBundle: z.string().default(''),
  }),
  rules: z.array(ruleSchema).default([]),
  failurePolicy: z.enum(['Fail', 'Ignore']).default('Fail'),
  matchPolicy: z.enum(['Exact', 'Equivalent']).default('Equivalent'),
  namespaceSelector: selectorSchema.default({}),
  objectSelector: selectorSchema.default({}),
  matchConditions: z.array(z.strictObject({ name: z.string(), expression: z.string() })).default([]),
  sideEffects: z.enum(['None', 'NoneOnDryRun']),
  timeoutSeconds: z.number().int().min(1).max(30).default(10),
  admissionReviewVersions: z.array(z.string()).refine((versions) => versions.includes('v1'), 'the harness speaks admission.k8s.io/v1 only'),
  reinvocationPolicy: z.enum(['Never', 'IfNeeded']).optional(),
});
export type Webhook = z.infer<typeof webhookSchema>;

const configurationSchema = z.object({
  kind: z.enum(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']),
  metadata: z.object({ name: z.string() }),
  webhooks: z.array(webhookSchema).default([]),
});

/** What the API server decodes from a webhook's reply; anything else is an invalid response. */
const replySchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  response: z
    .object({
      uid: z.string(),
      allowed: z.boolean(),
      status: z.object({ code: z.number().optional(), reason: z.string().optional(), message: z.string().optional() }).optional(),
      patch: z.string().optional(),
      patchType: z.string().optional(),
      warnings: z.array(z.string()).optional(),
    })
    .optional(),
});
type AdmissionResponse = NonNullable<z.infer<typeof replySchema>['response']>;

interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** The discovery the harness knows: every kind netguard's webhooks name, and a few they do not. */
const RESOURCES: Readonly<Record<string, Resource>> = {
  Namespace: { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  Pod: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  ReplicationController: { group: '', version: 'v1', plural: 'replicationcontrollers', namespaced: true },
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  Service: { group: '', version: 'v1', plural: 'services', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  StatefulSet: { group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true },
  ReplicaSet: { group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true },
  Job: { group: 'batch', version: 'v1', plural: 'jobs', namespaced: true },
  CronJob: { group: 'batch', version: 'v1', plural: 'cronjobs', namespaced: true },
  NetworkPolicy: { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', namespaced: true },
  GuardrailException: { group: 'netguard.dev', version: 'v1alpha1', plural: 'guardrailexceptions', namespaced: true },
};

export interface ServiceRef {
  readonly name: string;
  readonly namespace: string;
  readonly port: number;
}

export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
}

export interface ApiServerOptions {
  /** Objects rendered from deploy/ (`kubectl kustomize deploy/`); the webhook configurations are picked out. */
  readonly rendered: readonly unknown[];
  /** base64 PEM written into every empty caBundle, as `netguard certs --patch` or cert-manager does. */
  readonly caBundle?: string;
  /** Where a Service port really listens (there is no kube-proxy); undefined = no ready endpoints. */
  service(ref: ServiceRef): { host: string; port: number } | undefined;
  /** The user kubectl runs as; default a cluster admin. */
  readonly user?: UserInfo;
  /** Request uids; default random. */
  uid?(): string;
}

export interface RequestOptions {
  readonly user?: UserInfo;
  /** `--dry-run=server`: reviewed with dryRun: true, nothing stored. */
  readonly dryRun?: boolean;
}

export interface KubectlResult {
  /** What the terminal shows, stdout and stderr interleaved as kubectl writes them. */
  readonly lines: readonly string[];
  /** kubectl's exit status would be 0. */
  readonly ok: boolean;
}

export interface WebhookCall {
  readonly webhook: string;
  readonly operation: Operation;
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
}

export interface ApiServer {
  /**
   * `kubectl apply -f FILE` of objects that do not exist yet (kubectl then creates them and prints
   * what `create` prints). Applying over a stored object is refused: kubectl's patch errors are not
   * rendered here; use `replace`.
   */
  apply(file: string, text: string, options?: RequestOptions): Promise<KubectlResult>;
  /** `kubectl create -f FILE`. */
  create(file: string, text: string, options?: RequestOptions): Promise<KubectlResult>;
  /** `kubectl replace -f FILE`: an UPDATE whose oldObject is the stored object. */
  replace(file: string, text: string, options?: RequestOptions): Promise<KubectlResult>;
  /** `kubectl delete -f FILE`. */
  delete(file: string, text: string, options?: RequestOptions): Promise<KubectlResult>;
  /** Stores objects without admission: what the cluster held before netguard's webhooks were registered. */
  seed(text: string): void;
  /** The stored object, as `kubectl get -o yaml` would show it. */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Every stored object (what netguard's informer caches would hold). */
  objects(): KubeObject[];
  /** Every webhook call made, in order. */
  readonly calls: readonly WebhookCall[];
}

/** The namespaces every cluster starts with, labelled as the API server labels them. */
export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'netguard-system'];

/** Parses the rendered webhook configurations (throws on a field the harness does not understand). */
export function webhookConfigurations(rendered: readonly unknown[]): z.infer<typeof configurationSchema>[] {
  return rendered
    .filter((object) => /^(Mutating|Validating)WebhookConfiguration$/.test(String(z.object({ kind: z.string() }).safeParse(object).data?.kind)))
    .map((object) => configurationSchema.parse(object));
}

/** A copy of `rendered` with every webhook changed by `change` (for failure and timeout scenarios). */
export function mapWebhooks(rendered: readonly unknown[], change: (webhook: Record<string, unknown>) => Record<string, unknown>): unknown[] {
  return rendered.map((object) => {
    if (!isRecord(object) || !Array.isArray(object['webhooks'])) return object;
    return { ...object, webhooks: object['webhooks'].map((webhook: unknown) => (isRecord(webhook) ? change(structuredClone(webhook)) : webhook)) };
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const recordAt = (object: KubeObject | undefined, key: string): Record<string, unknown> => {
  const value = object?.[key];
  return isRecord(value) ? value : {};
};
const metadataOf = (object: KubeObject | undefined): Record<string, unknown> => recordAt(object, 'metadata');
const labelsOf = (object: KubeObject | undefined): Labels => {
  const labels = metadataOf(object)['labels'];
  return isRecord(labels) ? Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
};

export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  return (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const value = labels[key];
    switch (operator) {
      case 'In':
        return value !== undefined && values.includes(value);
      case 'NotIn':
        return value === undefined || !values.includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
    }
  });
}

function ruleMatches(rule: RuleWithOperations, resource: Resource, operation: Operation): boolean {
  const has = (list: readonly string[], value: string): boolean => list.includes('*') || list.includes(value);
  // `*/*` covers resources and subresources; `pods/status` only a subresource (never sent here).
  const resourceOk = rule.resources.some((r) => r === '*' || r === '*/*' || r === resource.plural);
  const scopeOk = rule.scope === '*' || (rule.scope === 'Namespaced') === resource.namespaced;
  return has(rule.operations, operation) && has(rule.apiGroups, resource.group) && has(rule.apiVersions, resource.version) && resourceOk && scopeOk;
}

const valueAt = (root: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (isRecord(value) ? value[key] : undefined), root);

/**
 * The CEL subset deploy/'s matchConditions may use: `||`, `&&` and `a.b.c == 'x'` / `!= 'x'`.
 * Anything richer throws, so a new expression in deploy/ fails the tests instead of being misread.
 */
export function evaluateMatchCondition(expression: string, variables: Record<string, unknown>): boolean {
  return expression.split('||').some((conjunction) =>
    conjunction.split('&&').every((term) => {
      const match = /^\s*([a-zA-Z]\w*(?:\.\w+)*)\s*(==|!=)\s*'([^']*)'\s*$/.exec(term);
      if (match === null) throw new Error(`the harness cannot evaluate the CEL term: ${term.trim()}`);
      const [, path = '', op, literal] = match;
      return (valueAt(variables, path) === literal) === (op === '==');
    }),
  );
}

/** What the API server keeps of warnings: valid one-line text, deduplicated, 4 KiB in all (items cut to 256). */
export function admittedWarnings(warnings: readonly string[]): string[] {
  const kept: string[] = [];
  for (const text of warnings) {
    // eslint-disable-next-line no-control-regex
    if (text === '' || /[\u0000-\u001f\u007f]/.test(text) || kept.includes(text)) continue;
    kept.push(text);
  }
  const runes = (text: string): number => [...text].length;
  if (kept.reduce((sum, text) => sum + runes(text), 0) <= 4096) return kept;
  const truncated: string[] = [];
  let total = 0;
  for (const text of kept) {
    const cut = runes(text) > 256 ? [...text].slice(0, 256).join('') : text;
    total += runes(cut);
    if (total > 4096) break;
    truncated.push(cut);
  }
  return truncated;
}

/** kubectl's `kind.group` form: `deployment.apps`, `namespace`, `networkpolicy.networking.k8s.io`. */
export function kubectlKind(kind: string, resource: { readonly group: string }): string {
  return `${kind.toLowerCase()}${resource.group === '' ? '' : `.${resource.group}`}`;
}

/** `deployments.apps`, as the API server names a resource in NotFound / AlreadyExists. */
const groupResource = (r: Resource): string => `${r.plural}${r.group === '' ? '' : `.${r.group}`}`;

/** A failure kubectl shows as `Error from server (REASON): error when VERB "FILE": MESSAGE`. */
class StatusError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The API server's webhookutil.ErrCallingWebhook, surfaced as an InternalError when failurePolicy is Fail. */
class CallingWebhookError extends Error {}

interface Reply {
  readonly status: number;
  readonly body: string;
}

function postReview(target: { host: string; port: number }, servername: string, path: string, ca: string, payload: string, timeoutSeconds: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.host,
        port: target.port,
        servername,
        path,
        method: 'POST',
        ca,
        agent: false,
        signal: AbortSignal.timeout(timeoutSeconds * 1000),
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Go's wording for what Node reports, so failures read like the API server's. */
function goError(err: unknown, target: { host: string; port: number }, servername: string): string {
  const code = isRecord(err) && typeof err['code'] === 'string' ? err['code'] : '';
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return 'context deadline exceeded';
  if (code === 'ECONNREFUSED') return `dial tcp ${target.host}:${target.port}: connect: connection refused`;
  if (['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'].includes(code)) {
    return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const cert = isRecord(err) && isRecord(err['cert']) ? err['cert'] : {};
    const dnsNames = String(cert['subjectaltname'] ?? '').split(', ').filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4));
    return `tls: failed to verify certificate: x509: certificate is valid for ${dnsNames.join(', ')}, not ${servername}`;
  }
  return message;
}

/** The API server's VerifyAdmissionResponse: the order of its checks decides which one is reported. */
function verifyReply(reply: Reply, uid: string, mutating: boolean): AdmissionResponse {
  if (reply.status !== 200) throw new CallingWebhookError(`failed to call webhook: the server responded with status ${reply.status}: ${reply.body.trim()}`);
  let json: unknown;
  try {
    json = JSON.parse(reply.body);
  } catch (err) {
    throw new CallingWebhookError(`failed to call webhook: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = replySchema.safeParse(json);
  if (!parsed.success) throw new CallingWebhookError(`received invalid webhook response: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { apiVersion, kind, response } = parsed.data;
  const invalid = (why: string): CallingWebhookError => new CallingWebhookError(`received invalid webhook response: ${why}`);
  if (response === undefined) throw invalid('webhook response was absent');
  if (response.uid !== uid) throw invalid(`expected response.uid="${uid}", got "${response.uid}"`);
  if (apiVersion !== 'admission.k8s.io/v1' || kind !== 'AdmissionReview') {
    throw invalid(`expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${apiVersion ?? ''}, Kind=${kind ?? ''}`);
  }
  if (!mutating && response.patch !== undefined && response.patch !== '') throw invalid('validating webhook may not return response.patch');
  if (!mutating && response.patchType !== undefined) throw invalid('validating webhook may not return response.patchType');
  if (mutating && response.patch !== undefined && response.patch !== '') {
    if (response.patchType === undefined) throw invalid('webhook returned response.patch but not response.patchType');
    if (response.patchType !== 'JSONPatch') throw invalid(`webhook returned invalid response.patchType of "${response.patchType}"`);
  }
  return response;
}

/** The API server's webhookerrors.ToStatusErr. */
function denial(webhook: string, response: AdmissionResponse): StatusError {
  const deniedBy = `admission webhook "${webhook}" denied the request`;
  const status = response.status ?? {};
  const message = status.message ? `${deniedBy}: ${status.message}` : status.reason ? `${deniedBy}: ${status.reason}` : `${deniedBy} without explanation`;
  return new StatusError(status.reason ?? '', message);
}

const key = (kind: string, namespace: string | undefined, name: string): string => `${kind}/${namespace ?? ''}/${name}`;

export function apiServer(options: ApiServerOptions): ApiServer {
  const configurations = webhookConfigurations(options.rendered);
  const webhooksOf = (kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration'): Webhook[] =>
    configurations.filter((c) => c.kind === kind).flatMap((c) => c.webhooks);
  const store = new Map<string, KubeObject>();
  const calls: WebhookCall[] = [];
  const newUid = options.uid ?? randomUUID;
  for (const name of INITIAL_NAMESPACES) {
    store.set(key('Namespace', undefined, name), { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
  }

  interface Attempt {
    readonly resource: Resource;
    readonly kind: string;
    readonly operation: Operation;
    readonly name: string;
    readonly namespace: string | undefined;
    readonly object: KubeObject | undefined;
    readonly oldObject: KubeObject | undefined;
    readonly user: UserInfo;
    readonly dryRun: boolean;
  }

  const reviewOf = (attempt: Attempt, object: KubeObject | undefined): { uid: string; request: Record<string, unknown> } => {
    const { resource, kind, operation } = attempt;
    const gvk = { group: resource.group, version: resource.version, kind };
    const gvr = { group: resource.group, version: resource.version, resource: resource.plural };
    const optionsKind = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions' }[operation];
    const uid = newUid();
    const request = {
      uid,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: attempt.name,
      // A Namespace's review carries its own name as the namespace.
      ...(resource.plural === 'namespaces' ? { namespace: attempt.name } : attempt.namespace === undefined ? {} : { namespace: attempt.namespace }),
      operation,
      userInfo: { username: attempt.user.username, uid: attempt.user.uid ?? randomUUID(), groups: [...attempt.user.groups] },
      object: object ?? null,
      oldObject: attempt.oldObject ?? null,
      dryRun: attempt.dryRun,
      options: { apiVersion: 'meta.k8s.io/v1', kind: optionsKind, ...(operation === 'DELETE' ? { propagationPolicy: 'Background' } : { fieldManager: 'kubectl-create' }) },
    };
    return { uid, request };
  };

  const matches = (webhook: Webhook, attempt: Attempt, object: KubeObject | undefined, request: Record<string, unknown>): boolean => {
    const { resource } = attempt;
    if (!webhook.rules.some((rule) => ruleMatches(rule, resource, attempt.operation))) return false;
    // A Namespace is selected by its own labels; other cluster-scoped objects always match.
    const namespaceLabels =
      resource.plural === 'namespaces' ? labelsOf(object ?? attempt.oldObject) :
      attempt.namespace === undefined ? undefined : labelsOf(store.get(key('Namespace', undefined, attempt.namespace)));
    if (namespaceLabels !== undefined && !selectorMatches(webhook.namespaceSelector, namespaceLabels)) return false;
    const objectSelected = [object, attempt.oldObject].some((o) => o !== undefined && selectorMatches(webhook.objectSelector, labelsOf(o)));
    if (!objectSelected) return false;
    return webhook.matchConditions.every((c) => evaluateMatchCondition(c.expression, { request, object: object ?? null, oldObject: attempt.oldObject ?? null }));
  };

  const call = async (webhook: Webhook, review: { uid: string; request: Record<string, unknown> }, mutating: boolean): Promise<AdmissionResponse | undefined> => {
    const { service } = webhook.clientConfig;
    const dns = `${service.name}.${service.namespace}.svc`;
    const path = `${service.path}?timeout=${webhook.timeoutSeconds}s`;
    const url = `https://${dns}:${service.port}${path}`;
    try {
      const target = options.service(service);
      if (target === undefined) throw new CallingWebhookError(`failed to call webhook: Post "${url}": no endpoints available for service "${service.name}"`);
      const caBundle = webhook.clientConfig.caBundle === '' ? (options.caBundle ?? '') : webhook.clientConfig.caBundle;
      const ca = Buffer.from(caBundle, 'base64').toString('utf8');
      const payload = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: review.request });
      const reply = await postReview(target, dns, path, ca, payload, webhook.timeoutSeconds).catch((err: unknown) => {
        throw new CallingWebhookError(`failed to call webhook: Post "${url}": ${goError(err, target, dns)}`);
      });
      return verifyReply(reply, review.uid, mutating);
    } catch (err) {
      if (!(err instanceof CallingWebhookError)) throw err;
      if (webhook.failurePolicy === 'Ignore') return undefined; // failed open: admitted as if not called
      throw new StatusError('InternalError', `Internal error occurred: failed calling webhook "${webhook.name}": ${err.message}`);
    }
  };

  /** Runs admission; returns the object to store and the warnings, or throws a StatusError (with warnings). */
  const admit = async (attempt: Attempt, warnings: string[]): Promise<KubeObject | undefined> => {
    let object = attempt.object;
    for (const [phase, mutating] of [['MutatingWebhookConfiguration', true], ['ValidatingWebhookConfiguration', false]] as const) {
      for (const webhook of webhooksOf(phase)) {
        const review = reviewOf(attempt, object);
        if (!matches(webhook, attempt, object, review.request)) continue;
        calls.push({ webhook: webhook.name, operation: attempt.operation, resource: attempt.resource.plural, namespace: attempt.namespace ?? '', name: attempt.name });
        const response = await call(webhook, review, mutating);
        if (response === undefined) continue;
        warnings.push(...(response.warnings ?? []));
        if (!response.allowed) throw denial(webhook.name, response);
        if (mutating && object !== undefined && response.patch !== undefined && response.patch !== '') {
          const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
          object = jsonpatch.applyPatch(structuredClone(object), patch, true, false).newDocument;
        }
      }
    }
    return object;
  };

  type Verb = 'apply' | 'create' | 'replace' | 'delete';
  const verbs = {
    apply: { operation: 'CREATE', gerund: 'creating', past: 'created' },
    create: { operation: 'CREATE', gerund: 'creating', past: 'created' },
    replace: { operation: 'UPDATE', gerund: 'replacing', past: 'replaced' },
    delete: { operation: 'DELETE', gerund: 'deleting', past: 'deleted' },
  } as const;

  const one = async (verb: Verb, document: KubeObject, requestOptions: RequestOptions, warnings: string[]): Promise<string> => {
    const kind = String(document['kind']);
    const resource = RESOURCES[kind];
    if (resource === undefined) throw new Error(`the harness has no discovery for kind ${kind}`);
    const metadata = metadataOf(document);
    const name = String(metadata['name']);
    const namespace = resource.namespaced ? String(metadata['namespace'] ?? 'default') : undefined;
    const { operation } = verbs[verb];
    const stored = store.get(key(kind, namespace, name));
    if (namespace !== undefined && !store.has(key('Namespace', undefined, namespace))) throw new StatusError('NotFound', `namespaces "${namespace}" not found`);
    if (verb === 'apply' && stored !== undefined) throw new Error(`the harness applies new objects only; ${kind} ${name} exists (use replace)`);
    if (verb === 'create' && stored !== undefined) throw new StatusError('AlreadyExists', `${groupResource(resource)} "${name}" already exists`);
    if ((verb === 'replace' || verb === 'delete') && stored === undefined) throw new StatusError('NotFound', `${groupResource(resource)} "${name}" not found`);
    let object: KubeObject | undefined;
    if (verb !== 'delete') {
      const labels = resource.plural === 'namespaces' ? { ...labelsOf(document), 'kubernetes.io/metadata.name': name } : metadata['labels'];
      object = { ...structuredClone(document), metadata: { ...structuredClone(metadata), ...(labels === undefined ? {} : { labels }), ...(namespace === undefined ? {} : { namespace }) } };
    }
    const user = requestOptions.user ?? options.user ?? { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
    const dryRun = requestOptions.dryRun === true;
    const admitted = await admit({ resource, kind, operation, name, namespace, object, oldObject: stored, user, dryRun }, warnings);
    if (!dryRun) {
      if (admitted === undefined) store.delete(key(kind, namespace, name));
      else store.set(key(kind, namespace, name), admitted);
    }
    const shown = kubectlKind(kind, resource);
    const suffix = dryRun ? ' (server dry run)' : '';
    return verb === 'delete' ? `${shown} "${name}" deleted${suffix}` : `${shown}/${name} ${verbs[verb].past}${suffix}`;
  };

  const run = async (verb: Verb, file: string, text: string, requestOptions: RequestOptions = {}): Promise<KubectlResult> => {
    const lines: string[] = [];
    const errors: string[] = [];
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw doc.errors[0];
      const document: unknown = doc.toJS();
      if (document === null) continue;
      if (!isRecord(document)) throw new Error(`${file}: a document is not an object`);
      const warnings: string[] = [];
      try {
        const line = await one(verb, document, requestOptions, warnings);
        lines.push(...admittedWarnings(warnings).map((w) => `Warning: ${w}`), line);
      } catch (err) {
        if (!(err instanceof StatusError)) throw err;
        // Warnings arrive with the response; the errors are printed after every document was tried.
        lines.push(...admittedWarnings(warnings).map((w) => `Warning: ${w}`));
        const reason = err.reason === '' ? '' : ` (${err.reason})`;
        errors.push(`Error from server${reason}: error when ${verbs[verb].gerund} "${file}": ${err.message}`);
      }
    }
    return { lines: [...lines, ...errors], ok: errors.length === 0 };
  };

  return {
    apply: (file, text, o) => run('apply', file, text, o),
    create: (file, text, o) => run('create', file, text, o),
    replace: (file, text, o) => run('replace', file, text, o),
    delete: (file, text, o) => run('delete', file, text, o),
    seed(text) {
      for (const doc of parseAllDocuments(text)) {
        const object: unknown = doc.toJS();
        if (!isRecord(object)) continue;
        const kind = String(object['kind']);
        const metadata = metadataOf(object);
        const name = String(metadata['name']);
        const labels = kind === 'Namespace' ? { ...labelsOf(object), 'kubernetes.io/metadata.name': name } : metadata['labels'];
        const namespace = RESOURCES[kind]?.namespaced === true ? String(metadata['namespace'] ?? 'default') : undefined;
        store.set(key(kind, namespace, name), { ...object, metadata: { ...metadata, ...(labels === undefined ? {} : { labels }) } });
      }
    },
    get: (kind, namespace, name) => store.get(key(kind, namespace, name)),
    objects: () => [...store.values()],
    calls,
  };
}

/** A shell transcript: `$ kubectl ...` and what kubectl printed. */
export function transcript(command: string, result: KubectlResult): string {
  return [`$ ${command}`, ...result.lines].join('\n');
}
