/**
 * The API server's object-metadata validation, which runs after mutating webhooks and before any
 * validating webhook (registry/rest BeforeCreate / BeforeUpdate): a failure is 422 Invalid and no
 * validating webhook is called. Messages are apimachinery/pkg/util/validation's (IsQualifiedName,
 * IsDNS1123Subdomain, IsDNS1123Label, IsDNS1035Label, IsValidLabelValue) as rendered by
 * field.Error; name rules per kind from each strategy's validation (Namespace: DNS label, Service:
 * DNS-1035 label, CronJob: subdomain of at most 52, most others: DNS subdomain).
 */

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** field.Error as its Error() prints it. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';

/** validation.RegexError, including its doubled space after each example but the last. */
function regexError(message: string, format: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${format}')`;
  return `${message} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${format}')`;
}
const maxLen = (n: number): string => `must be no more than ${n} characters`;
const matches = (format: string, value: string): boolean => new RegExp(`^${format}$`).test(value);

function dns1123Label(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLen(63));
  if (!matches(DNS1123_LABEL_FMT, value)) {
    errors.push(
      regexError(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        DNS1123_LABEL_FMT,
        'my-name',
        '123-abc',
      ),
    );
  }
  return errors;
}

function dns1123Subdomain(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 253) errors.push(maxLen(253));
  if (!matches(DNS1123_SUBDOMAIN_FMT, value)) {
    errors.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        DNS1123_SUBDOMAIN_FMT,
        'example.com',
      ),
    );
  }
  return errors;
}

function dns1035Label(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLen(63));
  if (!matches(DNS1035_LABEL_FMT, value)) {
    errors.push(
      regexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        DNS1035_LABEL_FMT,
        'my-name',
        'abc-123',
      ),
    );
  }
  return errors;
}

const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/** validation.IsQualifiedName: label and annotation keys. */
export function qualifiedName(value: string): string[] {
  const parts = value.split('/');
  const errors: string[] = [];
  if (parts.length > 2) {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  const name = parts.length === 2 ? (parts[1] ?? '') : (parts[0] ?? '');
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix === '') errors.push('prefix part must be non-empty');
    else errors.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push(`name part ${maxLen(63)}`);
  if (!matches(QUALIFIED_NAME_FMT, name))
    errors.push(
      `name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`,
    );
  return errors;
}

function labelValue(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLen(63));
  if (!matches(LABEL_VALUE_FMT, value)) {
    errors.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        LABEL_VALUE_FMT,
        'MyValue',
        'my_value',
        '12345',
      ),
    );
  }
  return errors;
}

/** Go's %q for the value in `Invalid value: "..."` (JSON quoting agrees for printable text). */
const quoted = (value: string): string => JSON.stringify(value);
const invalid = (field: string, value: string, detail: string): FieldError => ({
  field,
  message: `${field}: Invalid value: ${quoted(value)}: ${detail}`,
});

type NameRule = (name: string) => string[];
const subdomainAtMost =
  (limit: number): NameRule =>
  (name) => [...dns1123Subdomain(name), ...(name.length > limit ? [maxLen(limit)] : [])];
const pathSegment: NameRule = (name) =>
  ['.', '..'].includes(name)
    ? [`may not be '${name}'`]
    : [...name].flatMap((c) => (c === '/' || c === '%' ? [`may not contain '${c}'`] : []));

const NAME_RULES: Readonly<Record<string, NameRule>> = {
  Namespace: dns1123Label,
  Service: dns1035Label,
  CronJob: subdomainAtMost(52),
  ClusterRole: pathSegment,
};

function validateLabels(labels: unknown, field: string): FieldError[] {
  if (!isRecord(labels)) return [];
  return Object.entries(labels).flatMap(([key, value]) => [
    ...qualifiedName(key).map((m) => invalid(field, key, m)),
    ...(typeof value === 'string' ? labelValue(value).map((m) => invalid(field, value, m)) : []),
  ]);
}

const ANNOTATIONS_LIMIT = 256 * 1024;
function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  if (!isRecord(annotations)) return [];
  const errors = Object.keys(annotations).flatMap((key) =>
    qualifiedName(key.toLowerCase()).map((m) => invalid(field, key, m)),
  );
  const size = Object.entries(annotations).reduce(
    (sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(String(v)),
    0,
  );
  if (size > ANNOTATIONS_LIMIT)
    errors.push({
      field,
      message: `${field}: Too long: may not be more than ${ANNOTATIONS_LIMIT} bytes`,
    });
  return errors;
}

/** The pod template's labels, where the workload kinds keep them (validated as labels too). */
function templateLabels(kind: string, object: Json): [string, unknown] | undefined {
  const spec = isRecord(object['spec']) ? object['spec'] : {};
  const at = (root: Json, keys: string[]): unknown =>
    keys.reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), root);
  if (kind === 'CronJob')
    return [
      'spec.jobTemplate.spec.template.metadata.labels',
      at(spec, ['jobTemplate', 'spec', 'template', 'metadata', 'labels']),
    ];
  if (
    [
      'Deployment',
      'StatefulSet',
      'DaemonSet',
      'ReplicaSet',
      'ReplicationController',
      'Job',
    ].includes(kind)
  ) {
    return ['spec.template.metadata.labels', at(spec, ['template', 'metadata', 'labels'])];
  }
  return undefined;
}

/** ValidateObjectMeta (name, generateName, labels, annotations) and the template's labels. */
export function validateObjectMeta(kind: string, object: Json): FieldError[] {
  const metadata = isRecord(object['metadata']) ? object['metadata'] : {};
  const rule = NAME_RULES[kind] ?? dns1123Subdomain;
  const errors: FieldError[] = [];
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : '';
  const generate = typeof metadata['generateName'] === 'string' ? metadata['generateName'] : '';
  if (generate !== '')
    errors.push(
      ...rule(generate.replace(/-$/, 'a')).map((m) =>
        invalid('metadata.generateName', generate, m),
      ),
    );
  if (name === '')
    errors.push({
      field: 'metadata.name',
      message: 'metadata.name: Required value: name or generateName is required',
    });
  else errors.push(...rule(name).map((m) => invalid('metadata.name', name, m)));
  errors.push(...validateLabels(metadata['labels'], 'metadata.labels'));
  errors.push(...validateAnnotations(metadata['annotations'], 'metadata.annotations'));
  const template = templateLabels(kind, object);
  if (template !== undefined) errors.push(...validateLabels(template[1], template[0]));
  return errors;
}
