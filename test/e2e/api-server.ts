/**
 * Plays the Kubernetes API server's admission chain for the webhook configurations rendered from
 * deploy/, in the real order (apiserver/pkg/endpoints/handlers/create.go, registry/generic Store):
 *
 *   kubectl (apply adds the last-applied annotation) → decode and default (api-defaults.ts)
 *   → mutating webhooks, one after the other, re-defaulting after each patch
 *   → BeforeCreate (generateName, uid, PrepareForCreate) → metadata validation (422 Invalid)
 *   → validating webhooks, all at once → store.
 *
 * It decides which webhooks a request reaches (rules, scope, namespaceSelector, objectSelector,
 * CEL matchConditions with `no such key`), calls them over one pooled keep-alive TLS transport
 * that trusts only the caBundle and checks the Service DNS name (webhook-client.ts), honours
 * timeoutSeconds and failurePolicy, checks each reply as VerifyAdmissionResponse does, applies
 * JSON patches, keeps warnings as the warning recorder does, and prints what kubectl prints.
 * No cluster, no Docker: a test stand-in for kube-apiserver.
 */
import { randomUUID } from 'node:crypto';
import jsonpatch from 'fast-json-patch';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { decodeAndDefault, prepareForCreate } from './api-defaults.ts';
import { validateObjectMeta, type FieldError } from './api-validation.ts';
import {
  goError,
  isReadable,
  statusError,
  webhookTransport,
  type Reply,
  type TransportTimeouts,
} from './webhook-client.ts';

export type KubeObject = Record<string, unknown>;
type Operation = 'CREATE' | 'UPDATE' | 'DELETE';
type Labels = Record<string, string>;

const selectorSchema = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string(),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
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
    service: z.strictObject({
      name: z.string(),
      namespace: z.string(),
      path: z.string().default('/'),
      port: z.number().int().default(443),
    }),
    caBundle: z.string().default(''),
  }),
  rules: z.array(ruleSchema).default([]),
  failurePolicy: z.enum(['Fail', 'Ignore']).default('Fail'),
  matchPolicy: z.enum(['Exact', 'Equivalent']).default('Equivalent'),
  namespaceSelector: selectorSchema.default({}),
  objectSelector: selectorSchema.default({}),
  matchConditions: z
    .array(z.strictObject({ name: z.string(), expression: z.string() }))
    .default([]),
  sideEffects: z.enum(['None', 'NoneOnDryRun']),
  timeoutSeconds: z.number().int().min(1).max(30).default(10),
  admissionReviewVersions: z
    .array(z.string())
    .refine((versions) => versions.includes('v1'), 'the harness speaks admission.k8s.io/v1 only'),
  reinvocationPolicy: z.enum(['Never', 'IfNeeded']).optional(),
});
export type Webhook = z.infer<typeof webhookSchema>;

const configurationSchema = z.object({
  kind: z.enum(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']),
  metadata: z.object({ name: z.string() }),
  webhooks: z.array(webhookSchema).default([]),
});

/** What the API server decodes from a reply: admissionv1.AdmissionResponse's fields it reads. */
interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly reason?: string; readonly message?: string };
  readonly patch?: string;
  readonly patchType?: string;
  readonly warnings?: readonly string[];
}

/**
 * Go's json decoding of an AdmissionReview reply: an absent `allowed` is false (a denial), an
 * absent uid is "", null is absent, and a wrongly typed field is an unmarshal error in Go's words.
 */
function decodeReply(json: unknown): {
  apiVersion: string;
  kind: string;
  response: AdmissionResponse | undefined;
} {
  const jsonType = (v: unknown): string =>
    Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'boolean' ? 'bool' : typeof v;
  const wrong = (struct: string, path: string, value: unknown, goType: string): Error =>
    new Error(
      `json: cannot unmarshal ${jsonType(value)} into Go struct field ${struct}.${path} of type ${goType}`,
    );
  if (!isRecord(json))
    throw new Error(
      `json: cannot unmarshal ${jsonType(json)} into Go value of type v1.AdmissionReview`,
    );
  const text = (
    record: Record<string, unknown>,
    field: string,
    struct: string,
    path: string,
  ): string | undefined => {
    const value = record[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw wrong(struct, path, value, 'string');
    return value;
  };
  const apiVersion = text(json, 'apiVersion', 'AdmissionReview', 'apiVersion') ?? '';
  const kind = text(json, 'kind', 'AdmissionReview', 'kind') ?? '';
  const raw = json['response'];
  if (raw === undefined || raw === null) return { apiVersion, kind, response: undefined };
  if (!isRecord(raw)) throw wrong('AdmissionReview', 'response', raw, 'v1.AdmissionResponse');
  const field = (name: string): string => `response.${name}`;
  const allowed = raw['allowed'] ?? false;
  if (typeof allowed !== 'boolean')
    throw wrong('AdmissionResponse', field('allowed'), allowed, 'bool');
  const status = raw['status'] ?? undefined;
  if (status !== undefined && !isRecord(status))
    throw wrong('AdmissionResponse', field('status'), status, 'v1.Status');
  const warnings = raw['warnings'] ?? undefined;
  if (
    warnings !== undefined &&
    !(Array.isArray(warnings) && warnings.every((w) => typeof w === 'string'))
  ) {
    throw wrong('AdmissionResponse', field('warnings'), warnings, '[]string');
  }
  const patch = text(raw, 'patch', 'AdmissionResponse', field('patch'));
  if (patch !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(patch))
    throw new Error('illegal base64 data at input byte 0');
  return {
    apiVersion,
    kind,
    response: {
      uid: text(raw, 'uid', 'AdmissionResponse', field('uid')) ?? '',
      allowed,
      ...(status === undefined
        ? {}
        : {
            status: {
              reason: text(status, 'reason', 'Status', field('status.reason')),
              message: text(status, 'message', 'Status', field('status.message')),
            },
          }),
      ...(patch === undefined ? {} : { patch }),
      ...(text(raw, 'patchType', 'AdmissionResponse', field('patchType')) === undefined
        ? {}
        : { patchType: String(raw['patchType']) }),
      ...(warnings === undefined ? {} : { warnings }),
    },
  };
}

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
  ReplicationController: {
    group: '',
    version: 'v1',
    plural: 'replicationcontrollers',
    namespaced: true,
  },
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  Service: { group: '', version: 'v1', plural: 'services', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  StatefulSet: { group: 'apps', version: 'v1', plural: 'statefulsets', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', plural: 'daemonsets', namespaced: true },
  ReplicaSet: { group: 'apps', version: 'v1', plural: 'replicasets', namespaced: true },
  Job: { group: 'batch', version: 'v1', plural: 'jobs', namespaced: true },
  CronJob: { group: 'batch', version: 'v1', plural: 'cronjobs', namespaced: true },
  NetworkPolicy: {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'networkpolicies',
    namespaced: true,
  },
  GuardrailException: {
    group: 'netguard.dev',
    version: 'v1alpha1',
    plural: 'guardrailexceptions',
    namespaced: true,
  },
  ClusterRole: {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'clusterroles',
    namespaced: false,
  },
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
  /**
   * kube-apiserver `--enable-aggregator-routing` (default off): on, the API server dials an
   * endpoint itself and says "no endpoints available" when there is none; off, it dials the
   * Service's ClusterIP and kube-proxy refuses the connection.
   */
  readonly aggregatorRouting?: boolean;
  /** The Service's ClusterIP, as the API server's errors name it when aggregator routing is off. */
  readonly clusterIP?: string;
  /** The webhook transport's idle timeout (default Go's 90 s); tests scale it down. */
  readonly transport?: TransportTimeouts;
  /** The user kubectl runs as; default a cluster admin. */
  readonly user?: UserInfo;
  /** Request uids; default random. */
  uid?(): string;
  /** The API server's clock (creationTimestamp); default now. */
  now?(): Date;
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
   * `kubectl apply -f FILE` of objects that do not exist yet: kubectl adds the last-applied
   * annotation and creates them. Applying over a stored object is refused: kubectl's patch path
   * is not rendered here; use `replace`.
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
  /** Every webhook call made, in order of sending. */
  readonly calls: readonly WebhookCall[];
  /** Every AdmissionReview request sent, in order (what the webhook received). */
  readonly reviews: readonly Record<string, unknown>[];
  /** TLS connections the webhook transport opened so far. */
  readonly connectionsOpened: number;
  /** Closes the transport's pooled connections. */
  close(): void;
}

/** The namespaces every cluster starts with, labelled as the API server labels them. */
export const INITIAL_NAMESPACES = [
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'netguard-system',
];

/** kubectl's annotation holding what `kubectl apply` last applied. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Parses the rendered webhook configurations (throws on a field the harness does not understand). */
export function webhookConfigurations(
  rendered: readonly unknown[],
): z.infer<typeof configurationSchema>[] {
  return rendered
    .filter((object) =>
      /^(Mutating|Validating)WebhookConfiguration$/.test(
        String(z.object({ kind: z.string() }).safeParse(object).data?.kind),
      ),
    )
    .map((object) => configurationSchema.parse(object));
}

/** A copy of `rendered` with every webhook changed by `change` (for failure and timeout scenarios). */
export function mapWebhooks(
  rendered: readonly unknown[],
  change: (webhook: Record<string, unknown>) => Record<string, unknown>,
): unknown[] {
  return rendered.map((object) => {
    if (!isRecord(object) || !Array.isArray(object['webhooks'])) return object;
    return {
      ...object,
      webhooks: object['webhooks'].map((webhook: unknown) =>
        isRecord(webhook) ? change(structuredClone(webhook)) : webhook,
      ),
    };
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const recordAt = (object: KubeObject | undefined, key: string): Record<string, unknown> => {
  const value = object?.[key];
  return isRecord(value) ? value : {};
};
const metadataOf = (object: KubeObject | undefined): Record<string, unknown> =>
  recordAt(object, 'metadata');
const stringAt = (record: Record<string, unknown>, key: string): string =>
  typeof record[key] === 'string' ? record[key] : '';
const labelsOf = (object: KubeObject | undefined): Labels => {
  const labels = metadataOf(object)['labels'];
  return isRecord(labels)
    ? Object.fromEntries(
        Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'),
      )
    : {};
};

export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  return (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const value = labels[key];
    switch (operator) {
      case 'In':
        return value !== undefined && values.includes(value);
      case 'NotIn':
        return value === undefined || !values.includes(value);
      case 'Exists':
        return value !== undefined;
      default:
        return value === undefined; // DoesNotExist
    }
  });
}

function ruleMatches(rule: RuleWithOperations, resource: Resource, operation: Operation): boolean {
  const has = (list: readonly string[], value: string): boolean =>
    list.includes('*') || list.includes(value);
  // `*/*` covers resources and subresources; `pods/status` only a subresource (never sent here).
  const resourceOk = rule.resources.some((r) => r === '*' || r === '*/*' || r === resource.plural);
  const scopeOk = rule.scope === '*' || (rule.scope === 'Namespaced') === resource.namespaced;
  return (
    has(rule.operations, operation) &&
    has(rule.apiGroups, resource.group) &&
    has(rule.apiVersions, resource.version) &&
    resourceOk &&
    scopeOk
  );
}

/** A CEL evaluation error (cel.Error with the filter's wording). */
export class CelError extends Error {}

/** CEL field selection: an absent key is the error `no such key: K`, never undefined. */
function select(root: unknown, path: string): unknown {
  let value = root;
  for (const key of path.split('.')) {
    if (!isRecord(value) || !Object.hasOwn(value, key)) throw new CelError(`no such key: ${key}`);
    value = value[key];
  }
  return value;
}

type Truth = boolean | CelError;
/** CEL's commutative logic: `true || error` is true, `false && error` is false, else the error wins. */
const or = (terms: Truth[]): Truth =>
  terms.includes(true) ? true : (terms.find((t) => t instanceof CelError) ?? false);
const and = (terms: Truth[]): Truth =>
  terms.includes(false) ? false : (terms.find((t) => t instanceof CelError) ?? true);

/**
 * The CEL subset deploy/'s matchConditions may use: `||`, `&&` and `a.b.c == 'x'` / `!= 'x'`, with
 * CEL's error semantics. Throws CelError (`expression '...' resulted in error: no such key: ...`)
 * when the result is an error; anything richer than the subset throws a plain Error, so a new
 * expression in deploy/ fails the tests instead of being misread.
 */
export function evaluateMatchCondition(
  expression: string,
  variables: Record<string, unknown>,
): boolean {
  const result = or(
    expression.split('||').map((conjunction) =>
      and(
        conjunction.split('&&').map((term): Truth => {
          const match = /^\s*([a-zA-Z]\w*(?:\.\w+)*)\s*(==|!=)\s*'([^']*)'\s*$/.exec(term);
          if (match === null)
            throw new Error(`the harness cannot evaluate the CEL term: ${term.trim()}`);
          const [, path = '', op, literal] = match;
          try {
            return (select(variables, path) === literal) === (op === '==');
          } catch (err) {
            if (err instanceof CelError) return err;
            throw err;
          }
        }),
      ),
    ),
  );
  if (result instanceof CelError)
    throw new CelError(`expression '${expression}' resulted in error: ${result.message}`);
  return result;
}

/**
 * What the API server keeps of warnings (filters/warning.go recorder and net.NewWarningHeader):
 * valid UTF-8 without control characters (C0, DEL and C1: Go's unicode.IsControl), deduplicated,
 * 4 KiB in all; past that, items are cut to 256 runes.
 */
export function admittedWarnings(warnings: readonly string[]): string[] {
  const kept: string[] = [];
  for (const text of warnings) {
    // eslint-disable-next-line no-control-regex
    if (text === '' || /[\u0000-\u001f\u007f-\u009f]/.test(text) || kept.includes(text)) continue;
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

/** `deployments.apps`, as the API server names a resource in NotFound / AlreadyExists / Forbidden. */
const groupResource = (r: Resource): string => `${r.plural}${r.group === '' ? '' : `.${r.group}`}`;

/** Go's encoding/json of a map: keys sorted at every level, no spaces. */
function goJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${goJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * kubectl apply's CreateApplyAnnotation (kubectl/pkg/util/apply.go GetModifiedConfiguration): the
 * object as kubectl sends it, without the annotation itself but with an annotations map (empty
 * when the file had none), encoded and stored under LAST_APPLIED, newline included.
 */
export function withLastApplied(object: KubeObject): KubeObject {
  const metadata = metadataOf(object);
  const annotations = Object.fromEntries(
    Object.entries(isRecord(metadata['annotations']) ? metadata['annotations'] : {}).filter(
      ([k]) => k !== LAST_APPLIED,
    ),
  );
  const applied = { ...object, metadata: { ...metadata, annotations } };
  return {
    ...applied,
    metadata: {
      ...metadata,
      annotations: { ...annotations, [LAST_APPLIED]: `${goJson(applied)}\n` },
    },
  };
}

/** A failure kubectl shows as `Error from server (REASON): error when VERB "FILE": MESSAGE`. */
class StatusError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** 422 Invalid (apierrors.NewInvalid): kubectl renders a lone one from its details, not its message. */
class InvalidError extends StatusError {
  readonly kind: string;
  readonly objectName: string;
  readonly causes: readonly FieldError[];
  constructor(kind: string, group: string, name: string, causes: readonly FieldError[]) {
    const unique = [...new Set(causes.map((c) => c.message))];
    const aggregate = unique.length === 1 ? (unique[0] ?? '') : `[${unique.join(', ')}]`;
    super(
      'Invalid',
      `${kind}${group === '' ? '' : `.${group}`} ${JSON.stringify(name)} is invalid: ${aggregate}`,
    );
    this.kind = kind;
    this.objectName = name;
    this.causes = causes;
  }

  /** cmdutil.checkErr for IsInvalid: `The KIND "NAME" is invalid: CAUSE`, one line per cause when several. */
  kubectlMessage(): string {
    const prefix = `The ${this.kind} ${JSON.stringify(this.objectName)} is invalid: `;
    if (this.causes.length === 1) return `${prefix}${this.causes[0]?.message ?? ''}`;
    return [prefix, ...this.causes.map((c) => `* ${c.message}`)].join('\n');
  }
}

/** kubectl's own refusal before any request (`error: ...`). */
class KubectlError extends Error {}

/** The API server's webhookutil.ErrCallingWebhook: failurePolicy decides. */
class CallingWebhookError extends Error {}

/**
 * apierrors.NewInternalError: `Internal error occurred: ...`. Raised for a patch that cannot apply
 * or a patch on DELETE: the dispatcher returns these as they are, whatever the failurePolicy.
 */
const internalError = (message: string): StatusError =>
  new StatusError('InternalError', `Internal error occurred: ${message}`);

/** The API server's VerifyAdmissionResponse (webhook/request/admissionreview.go), in its order. */
function verifyReply(reply: Reply, uid: string, mutating: boolean): AdmissionResponse {
  if (!isReadable(reply.status))
    throw new CallingWebhookError(`failed to call webhook: ${statusError(reply)}`);
  let json: unknown;
  try {
    json = JSON.parse(reply.body);
  } catch (err) {
    throw new CallingWebhookError(
      `failed to call webhook: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  let decoded: ReturnType<typeof decodeReply>;
  try {
    decoded = decodeReply(json);
  } catch (err) {
    throw new CallingWebhookError(
      `failed to call webhook: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const { apiVersion, kind, response } = decoded;
  const invalid = (why: string): CallingWebhookError =>
    new CallingWebhookError(`received invalid webhook response: ${why}`);
  if (response === undefined) throw invalid('webhook response was absent');
  if (response.uid !== uid) throw invalid(`expected response.uid="${uid}", got "${response.uid}"`);
  if (apiVersion !== 'admission.k8s.io/v1' || kind !== 'AdmissionReview') {
    throw invalid(
      `expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${apiVersion}, Kind=${kind}`,
    );
  }
  const hasPatch = typeof response.patch === 'string' && response.patch !== '';
  const hasPatchType = typeof response.patchType === 'string';
  if (mutating) {
    if (hasPatch && !hasPatchType)
      throw invalid('webhook returned response.patch but not response.patchType');
    if (!hasPatch && hasPatchType)
      throw invalid('webhook returned response.patchType but not response.patch');
    if (response.patchType === '')
      throw invalid('webhook returned invalid response.patchType of ""');
  } else {
    if (hasPatch) throw invalid('validating webhook may not return response.patch');
    if (hasPatchType) throw invalid('validating webhook may not return response.patchType');
  }
  return response;
}

/** The API server's webhookerrors.ToStatusErr. */
function denial(webhook: string, response: AdmissionResponse): StatusError {
  const deniedBy = `admission webhook "${webhook}" denied the request`;
  const status = response.status ?? {};
  const message = status.message
    ? `${deniedBy}: ${status.message}`
    : status.reason
      ? `${deniedBy}: ${status.reason}`
      : `${deniedBy} without explanation`;
  return new StatusError(status.reason ?? '', message);
}

/**
 * The mutating dispatcher's patch handling: an undecodable patch or an unsupported type is a
 * calling error (failurePolicy applies); a non-empty patch on DELETE, or one that does not apply,
 * is an internal error whatever the failurePolicy.
 */
function applyReplyPatch(
  webhook: string,
  response: AdmissionResponse,
  object: KubeObject | undefined,
): KubeObject | undefined {
  if (typeof response.patch !== 'string' || response.patch === '') return object;
  let patch: unknown;
  try {
    patch = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
  } catch (err) {
    throw new CallingWebhookError(
      `received undecodable patch in webhook response: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (!Array.isArray(patch))
    throw new CallingWebhookError(
      'received undecodable patch in webhook response: json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    );
  if (patch.length === 0) return object;
  if (object === undefined)
    throw internalError(
      `admission webhook "${webhook}" attempted to modify the object, which is not supported for this operation`,
    );
  if (response.patchType !== 'JSONPatch')
    throw new CallingWebhookError(`unsupported patch type "${response.patchType ?? ''}"`);
  try {
    return jsonpatch.applyPatch(structuredClone(object), patch, true, false).newDocument;
  } catch (err) {
    // Worded as evanphx/json-patch (v4) words a missing path; other failures keep their first line.
    const operation = isRecord(err) && isRecord(err['operation']) ? err['operation'] : undefined;
    if (operation !== undefined && isRecord(err) && err['name'] === 'OPERATION_PATH_UNRESOLVABLE') {
      throw internalError(
        `${String(operation['op'])} operation does not apply: doc is missing path: ${String(operation['path'])}: missing value`,
      );
    }
    throw internalError(
      err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err),
    );
  }
}

const key = (kind: string, namespace: string | undefined, name: string): string =>
  `${kind}/${namespace ?? ''}/${name}`;

export function apiServer(options: ApiServerOptions): ApiServer {
  const configurations = webhookConfigurations(options.rendered);
  const webhooksOf = (
    kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration',
  ): Webhook[] => configurations.filter((c) => c.kind === kind).flatMap((c) => c.webhooks);
  const store = new Map<string, KubeObject>();
  const calls: WebhookCall[] = [];
  const reviews: Record<string, unknown>[] = [];
  const newUid = options.uid ?? randomUUID;
  const now = options.now ?? ((): Date => new Date());
  const transport = webhookTransport(options.transport);
  const clusterIP = options.clusterIP ?? '10.96.183.24';
  for (const name of INITIAL_NAMESPACES) {
    store.set(key('Namespace', undefined, name), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    });
  }

  interface Attempt {
    readonly resource: Resource;
    readonly kind: string;
    readonly operation: Operation;
    readonly namespace: string | undefined;
    readonly oldObject: KubeObject | undefined;
    readonly user: UserInfo;
    readonly dryRun: boolean;
    readonly fieldManager: string;
  }

  /** admissionv1.AdmissionRequest as Go encodes it: `name` and `namespace` are omitempty. */
  const reviewOf = (
    attempt: Attempt,
    name: string,
    object: KubeObject | undefined,
  ): { uid: string; request: Record<string, unknown> } => {
    const { resource, kind, operation } = attempt;
    const gvk = { group: resource.group, version: resource.version, kind };
    const gvr = { group: resource.group, version: resource.version, resource: resource.plural };
    const optionsKind = {
      CREATE: 'CreateOptions',
      UPDATE: 'UpdateOptions',
      DELETE: 'DeleteOptions',
    }[operation];
    // A Namespace's review carries its own name as the namespace.
    const namespace = resource.plural === 'namespaces' ? name : (attempt.namespace ?? '');
    const uid = newUid();
    const request = {
      uid,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      ...(name === '' ? {} : { name }),
      ...(namespace === '' ? {} : { namespace }),
      operation,
      // authenticationv1.UserInfo: uid is omitempty (a client-certificate user has none).
      userInfo: {
        username: attempt.user.username,
        ...(attempt.user.uid === undefined ? {} : { uid: attempt.user.uid }),
        groups: [...attempt.user.groups],
      },
      object: object ?? null,
      oldObject: attempt.oldObject ?? null,
      dryRun: attempt.dryRun,
      options: {
        apiVersion: 'meta.k8s.io/v1',
        kind: optionsKind,
        ...(operation === 'DELETE'
          ? { propagationPolicy: 'Background' }
          : { fieldManager: attempt.fieldManager }),
      },
    };
    return { uid, request };
  };

  /**
   * generic.ShouldCallHook: rules, namespaceSelector, objectSelector, then matchConditions. A
   * condition that is false skips the webhook; one that errs skips it under Ignore and, under
   * Fail, refuses the request as Forbidden without calling anyone (matchconditions/matcher.go).
   */
  const matches = (
    webhook: Webhook,
    attempt: Attempt,
    name: string,
    object: KubeObject | undefined,
    request: Record<string, unknown>,
  ): boolean => {
    const { resource } = attempt;
    if (!webhook.rules.some((rule) => ruleMatches(rule, resource, attempt.operation))) return false;
    // A Namespace is selected by its own labels; other cluster-scoped objects always match.
    const namespaceLabels =
      resource.plural === 'namespaces'
        ? labelsOf(object ?? attempt.oldObject)
        : attempt.namespace === undefined
          ? undefined
          : labelsOf(store.get(key('Namespace', undefined, attempt.namespace)));
    if (
      namespaceLabels !== undefined &&
      !selectorMatches(webhook.namespaceSelector, namespaceLabels)
    )
      return false;
    const objectSelected = [object, attempt.oldObject].some(
      (o) => o !== undefined && selectorMatches(webhook.objectSelector, labelsOf(o)),
    );
    if (!objectSelected) return false;
    const variables = { request, object: object ?? null, oldObject: attempt.oldObject ?? null };
    const errors: string[] = [];
    for (const condition of webhook.matchConditions) {
      try {
        if (!evaluateMatchCondition(condition.expression, variables)) return false;
      } catch (err) {
        if (!(err instanceof CelError)) throw err;
        errors.push(err.message);
      }
    }
    if (errors.length === 0) return true;
    if (webhook.failurePolicy === 'Ignore') return false;
    const what =
      name === '' ? groupResource(resource) : `${groupResource(resource)} ${JSON.stringify(name)}`;
    throw new StatusError(
      'Forbidden',
      `${what} is forbidden: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}`,
    );
  };

  /** Where the API server's dial goes, and the address its errors name. */
  const dialTarget = (
    service: ServiceRef,
  ): { target: { host: string; port: number } | undefined; dialed: string } => {
    const target = options.service(service);
    if (options.aggregatorRouting === true)
      return { target, dialed: target === undefined ? '' : `${target.host}:${target.port}` };
    // ClusterIP routing: kube-proxy forwards to an endpoint or, with none, rejects the connection.
    return { target, dialed: `${clusterIP}:${service.port}` };
  };

  /** Calls one webhook; undefined when it failed open. */
  const call = async (
    webhook: Webhook,
    review: { uid: string; request: Record<string, unknown> },
    mutating: boolean,
  ): Promise<AdmissionResponse | undefined> => {
    const { service } = webhook.clientConfig;
    const dns = `${service.name}.${service.namespace}.svc`;
    const path = `${service.path}?timeout=${webhook.timeoutSeconds}s`;
    const url = `https://${dns}:${service.port}${path}`;
    try {
      const { target, dialed } = dialTarget(service);
      if (target === undefined) {
        const why =
          options.aggregatorRouting === true
            ? `no endpoints available for service "${service.name}"`
            : `dial tcp ${dialed}: connect: connection refused`;
        throw new CallingWebhookError(`failed to call webhook: Post "${url}": ${why}`);
      }
      const caBundle =
        webhook.clientConfig.caBundle === ''
          ? (options.caBundle ?? '')
          : webhook.clientConfig.caBundle;
      const ca = Buffer.from(caBundle, 'base64').toString('utf8');
      const body = {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: review.request,
      };
      reviews.push(body);
      const reply = await transport
        .post(
          { ...target, servername: dns, path, ca },
          JSON.stringify(body),
          webhook.timeoutSeconds,
        )
        .catch((err: unknown) => {
          throw new CallingWebhookError(
            `failed to call webhook: Post "${url}": ${goError(err, dialed, dns)}`,
          );
        });
      return verifyReply(reply, review.uid, mutating);
    } catch (err) {
      if (!(err instanceof CallingWebhookError)) throw err;
      if (webhook.failurePolicy === 'Ignore') return undefined; // failed open: admitted as if not called
      throw internalError(`failed calling webhook "${webhook.name}": ${err.message}`);
    }
  };

  const record = (webhook: Webhook, attempt: Attempt, name: string): void => {
    calls.push({
      webhook: webhook.name,
      operation: attempt.operation,
      resource: attempt.resource.plural,
      namespace: attempt.namespace ?? '',
      name,
    });
  };

  /** Mutating webhooks, one after the other; each patch is applied and the result re-defaulted. */
  const mutateAll = async (
    attempt: Attempt,
    name: string,
    initial: KubeObject | undefined,
    warnings: string[],
  ): Promise<KubeObject | undefined> => {
    let object = initial;
    for (const webhook of webhooksOf('MutatingWebhookConfiguration')) {
      const review = reviewOf(attempt, name, object);
      if (!matches(webhook, attempt, name, object, review.request)) continue;
      record(webhook, attempt, name);
      try {
        const response = await call(webhook, review, true);
        if (response === undefined) continue;
        warnings.push(...(response.warnings ?? []));
        if (!response.allowed) throw denial(webhook.name, response);
        const patched = applyReplyPatch(webhook.name, response, object);
        object =
          patched === undefined || patched === object
            ? patched
            : decodeAndDefault(attempt.kind, patched);
      } catch (err) {
        if (!(err instanceof CallingWebhookError)) throw err;
        if (webhook.failurePolicy === 'Ignore') continue;
        throw internalError(`failed calling webhook "${webhook.name}": ${err.message}`);
      }
    }
    return object;
  };

  /**
   * Validating webhooks all at once (validating/dispatcher.go: one goroutine each); every reply's
   * warnings are kept, and the first error to arrive is the one reported.
   */
  const validateAll = async (
    attempt: Attempt,
    name: string,
    object: KubeObject | undefined,
    warnings: string[],
  ): Promise<void> => {
    const invocations = webhooksOf('ValidatingWebhookConfiguration').flatMap((webhook) => {
      const review = reviewOf(attempt, name, object);
      return matches(webhook, attempt, name, object, review.request) ? [{ webhook, review }] : [];
    });
    const errors: StatusError[] = [];
    await Promise.all(
      invocations.map(async ({ webhook, review }) => {
        record(webhook, attempt, name);
        try {
          const response = await call(webhook, review, false);
          if (response === undefined) return;
          warnings.push(...(response.warnings ?? []));
          if (!response.allowed) errors.push(denial(webhook.name, response));
        } catch (err) {
          if (!(err instanceof StatusError)) throw err;
          errors.push(err);
        }
      }),
    );
    if (errors[0] !== undefined) throw errors[0];
  };

  /** BeforeCreate / BeforeUpdate, then ValidateObjectMeta: 422 before any validating webhook. */
  const prepare = (attempt: Attempt, object: KubeObject): KubeObject => {
    let prepared: KubeObject;
    if (attempt.operation === 'CREATE') prepared = prepareForCreate(attempt.kind, object, now());
    else {
      // BeforeUpdate keeps uid, creationTimestamp and generation; a Namespace keeps its finalizers and status.
      const old = attempt.oldObject ?? {};
      const oldMeta = metadataOf(old);
      prepared = {
        ...object,
        metadata: {
          ...metadataOf(object),
          ...Object.fromEntries(
            ['uid', 'creationTimestamp', 'generation'].flatMap((k) =>
              oldMeta[k] === undefined ? [] : [[k, oldMeta[k]]],
            ),
          ),
        },
      };
      if (attempt.kind === 'Namespace')
        prepared = {
          ...prepared,
          spec: old['spec'] ?? {},
          status: old['status'] ?? { phase: 'Active' },
        };
    }
    const causes = validateObjectMeta(attempt.kind, prepared);
    if (causes.length > 0)
      throw new InvalidError(
        attempt.kind,
        attempt.resource.group,
        stringAt(metadataOf(prepared), 'name'),
        causes,
      );
    return prepared;
  };

  /** Runs admission; returns the object to store, or throws a StatusError (warnings kept in `warnings`). */
  const admit = async (
    attempt: Attempt,
    name: string,
    object: KubeObject | undefined,
    warnings: string[],
  ): Promise<KubeObject | undefined> => {
    const mutated = await mutateAll(attempt, name, object, warnings);
    if (mutated === undefined) {
      await validateAll(attempt, name, undefined, warnings);
      return undefined;
    }
    const prepared = prepare(attempt, mutated);
    await validateAll(attempt, stringAt(metadataOf(prepared), 'name'), prepared, warnings);
    return prepared;
  };

  type Verb = 'apply' | 'create' | 'replace' | 'delete';
  const verbs = {
    apply: {
      operation: 'CREATE',
      gerund: 'creating',
      past: 'created',
      fieldManager: 'kubectl-client-side-apply',
    },
    create: {
      operation: 'CREATE',
      gerund: 'creating',
      past: 'created',
      fieldManager: 'kubectl-create',
    },
    replace: {
      operation: 'UPDATE',
      gerund: 'replacing',
      past: 'replaced',
      fieldManager: 'kubectl-replace',
    },
    delete: { operation: 'DELETE', gerund: 'deleting', past: 'deleted', fieldManager: '' },
  } as const;

  const one = async (
    verb: Verb,
    document: KubeObject,
    requestOptions: RequestOptions,
    warnings: string[],
  ): Promise<string> => {
    const kind = String(document['kind']);
    const resource = RESOURCES[kind];
    if (resource === undefined) throw new Error(`the harness has no discovery for kind ${kind}`);
    const metadata = metadataOf(document);
    const name = stringAt(metadata, 'name');
    const prefix = stringAt(metadata, 'generateName');
    if (verb === 'apply' && name === '' && prefix !== '')
      throw new KubectlError(`from ${prefix}: cannot use generate name with apply`);
    // Without a name kubectl cannot address the object; `create` leaves it to the server (422).
    if (name === '' && verb !== 'create') throw new KubectlError('resource name may not be empty');
    // kubectl sets the namespace it sends (the default one when the file has none).
    const namespace = resource.namespaced ? String(metadata['namespace'] ?? 'default') : undefined;
    const { operation } = verbs[verb];
    const stored = name === '' ? undefined : store.get(key(kind, namespace, name));
    if (namespace !== undefined && !store.has(key('Namespace', undefined, namespace)))
      throw new StatusError('NotFound', `namespaces "${namespace}" not found`);
    if (verb === 'apply' && stored !== undefined)
      throw new Error(`the harness applies new objects only; ${kind} ${name} exists (use replace)`);
    if (verb === 'create' && stored !== undefined)
      throw new StatusError('AlreadyExists', `${groupResource(resource)} "${name}" already exists`);
    if ((verb === 'replace' || verb === 'delete') && stored === undefined)
      throw new StatusError('NotFound', `${groupResource(resource)} "${name}" not found`);
    let object: KubeObject | undefined;
    if (verb !== 'delete') {
      const sent = {
        ...structuredClone(document),
        metadata: {
          ...structuredClone(metadata),
          ...(namespace === undefined ? {} : { namespace }),
        },
      };
      object = decodeAndDefault(kind, verb === 'apply' ? withLastApplied(sent) : sent);
    }
    const user = requestOptions.user ??
      options.user ?? {
        username: 'kubernetes-admin',
        groups: ['system:masters', 'system:authenticated'],
      };
    const dryRun = requestOptions.dryRun === true;
    const attempt: Attempt = {
      resource,
      kind,
      operation,
      namespace,
      oldObject: stored,
      user,
      dryRun,
      fieldManager: verbs[verb].fieldManager,
    };
    const admitted = await admit(attempt, name, object, warnings);
    const finalName = admitted === undefined ? name : stringAt(metadataOf(admitted), 'name');
    if (!dryRun) {
      if (admitted === undefined) store.delete(key(kind, namespace, finalName));
      else store.set(key(kind, namespace, finalName), admitted);
    }
    const shown = kubectlKind(kind, resource);
    const suffix = dryRun ? ' (server dry run)' : '';
    return verb === 'delete'
      ? `${shown} "${finalName}" deleted${suffix}`
      : `${shown}/${finalName} ${verbs[verb].past}${suffix}`;
  };

  const run = async (
    verb: Verb,
    file: string,
    text: string,
    requestOptions: RequestOptions = {},
  ): Promise<KubectlResult> => {
    const lines: string[] = [];
    const errors: StatusError[] = [];
    const shownWarnings = (warnings: readonly string[]): string[] =>
      admittedWarnings(warnings).map((w) => `Warning: ${w}`);
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw doc.errors[0];
      const document: unknown = doc.toJS();
      if (document === null) continue;
      if (!isRecord(document)) throw new Error(`${file}: a document is not an object`);
      const warnings: string[] = [];
      try {
        const line = await one(verb, document, requestOptions, warnings);
        lines.push(...shownWarnings(warnings), line);
      } catch (err) {
        if (err instanceof KubectlError)
          return { lines: [...lines, `error: ${err.message}`], ok: false };
        if (!(err instanceof StatusError)) throw err;
        // Warnings arrive with the response; the errors are printed after every document was tried.
        lines.push(...shownWarnings(warnings));
        errors.push(err);
      }
    }
    // cmdutil.CheckErr: a lone Invalid error is rendered from its details; otherwise each error's status.
    const lone = errors.length === 1 ? errors[0] : undefined;
    if (lone instanceof InvalidError)
      return { lines: [...lines, lone.kubectlMessage()], ok: false };
    const shown = errors.map(
      (err) =>
        `Error from server${err.reason === '' ? '' : ` (${err.reason})`}: error when ${verbs[verb].gerund} "${file}": ${err.message}`,
    );
    return { lines: [...lines, ...shown], ok: errors.length === 0 };
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
        const namespace =
          RESOURCES[kind]?.namespaced === true
            ? String(metadata['namespace'] ?? 'default')
            : undefined;
        const withNamespace = {
          ...object,
          metadata: { ...metadata, ...(namespace === undefined ? {} : { namespace }) },
        };
        store.set(
          key(kind, namespace, name),
          prepareForCreate(kind, decodeAndDefault(kind, withNamespace), now()),
        );
      }
    },
    get: (kind, namespace, name) => store.get(key(kind, namespace, name)),
    objects: () => [...store.values()],
    calls,
    reviews,
    get connectionsOpened() {
      return transport.connectionsOpened;
    },
    close: () => transport.close(),
  };
}

/** A shell transcript: `$ kubectl ...` and what kubectl printed. */
export function transcript(command: string, result: KubectlResult): string {
  return [`$ ${command}`, ...result.lines].join('\n');
}
