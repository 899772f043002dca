import { parseDuration } from '../config/duration.ts';
import { NETGUARD_NAMESPACE } from '../vocabulary.ts';
import { EXCEPTION_API_VERSION, EXCEPTION_KIND } from '../model/guardrail-exception.ts';
import { SERVED_KINDS } from '../model/kinds.ts';

/** kubectl's short names (model/kinds.ts), so `--target netpol/x` works as it does there. */
const SHORT_NAMES: ReadonlyMap<string, string> = new Map(
  SERVED_KINDS.flatMap((row) => row.shortNames.map((short) => [short, row.judgedAs] as const)),
);

/**
 * `networkpolicy`, `networkpolicies`, `netpol` → `NetworkPolicy`; undefined for a kind no rule
 * judges. `rules` are the rules the caller knows (rules/registry.ts's RULES), handed in.
 */
export function canonicalKind(
  text: string,
  rules: readonly { readonly kinds: readonly string[] }[],
): string | undefined {
  const lower = text.toLowerCase();
  const short = SHORT_NAMES.get(lower);
  if (short !== undefined) return short;
  for (const rule of rules) {
    for (const kind of rule.kinds) {
      const k = kind.toLowerCase();
      if (lower === k || lower === `${k}s` || lower === `${k.replace(/y$/, 'ie')}s`) return kind;
    }
  }
  return undefined;
}

export interface ExceptionRequest {
  readonly namespace: string;
  readonly rules: readonly string[];
  readonly kind: string;
  readonly name: string | undefined;
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly reason: string;
  /** Absent: netguard's mutating webhook fills it in (namespace annotation netguard.dev/owner, else the requester). */
  readonly owner: string | undefined;
  readonly ticket: string | undefined;
  /** `14d` (from now) or a date / timestamp. */
  readonly expires: string;
  readonly objectName: string | undefined;
}

/** An absolute expiry: now + a duration, a `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp. */
export function resolveExpiry(text: string, now: Date): string | undefined {
  const duration = parseDuration(text);
  if (duration !== undefined)
    return `${new Date(now.getTime() + duration).toISOString().slice(0, 19)}Z`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text))
    return Number.isNaN(Date.parse(`${text}T00:00:00Z`)) ? undefined : `${text}T00:00:00Z`;
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text)))
    return `${new Date(text).toISOString().slice(0, 19)}Z`;
  return undefined;
}

/** A DNS-1123 name from the rules and target: `np004-crawler-egress`. */
export function defaultExceptionName(rules: readonly string[], target: string): string {
  const name = `${rules.join('-')}-${target}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name.slice(0, 63).replace(/-+$/, '');
}

/** The GuardrailException a request describes; `expires` must already be absolute. */
export function exceptionObject(
  request: ExceptionRequest,
  expires: string,
): Record<string, unknown> {
  const targetWord = request.name ?? Object.values(request.selector ?? {}).join('-');
  const target =
    request.name !== undefined
      ? { kind: request.kind, name: request.name }
      : { kind: request.kind, selector: { matchLabels: { ...request.selector } } };
  return {
    apiVersion: EXCEPTION_API_VERSION,
    kind: EXCEPTION_KIND,
    metadata: {
      name: request.objectName ?? defaultExceptionName(request.rules, targetWord),
      namespace: request.kind === 'Namespace' ? NETGUARD_NAMESPACE : request.namespace,
    },
    spec: {
      rules: [...request.rules],
      target,
      reason: request.reason,
      ...(request.owner === undefined ? {} : { owner: request.owner }),
      ...(request.ticket === undefined ? {} : { ticket: request.ticket }),
      expires,
    },
  };
}
