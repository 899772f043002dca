import type { LabelSelector } from '../labels.ts';
import type { WaiverRef } from '../engine/types.ts';
import type { GuardrailException } from '../model/guardrail-exception.ts';
import type { ExceptionSource } from './source.ts';

/** One GuardrailException, parsed once, as matching and listing read it. */
export interface Waiver {
  readonly name: string;
  readonly namespace: string;
  readonly rules: ReadonlySet<string>;
  readonly target: {
    readonly kind: string;
    readonly name?: string | undefined;
    readonly selector?: LabelSelector | undefined;
  };
  readonly reason: string;
  readonly owner: string;
  readonly ticket: string | undefined;
  /** As written, and as an instant. */
  readonly expires: string;
  readonly expiresAt: number;
  readonly requestedBy: string | undefined;
  readonly approvedBy: string | undefined;
  /** Whether it may waive anything: a trusted source's as written; others need an approver other than the requester. */
  readonly approved: boolean;
  /** Where it came from: its trust, how it is renewed, whether it is an API object. */
  readonly source: ExceptionSource;
  /** The waiver it continues (`spec.renews`), if any. */
  readonly renews: string | undefined;
  /** metadata.uid of a waiver that is an API object (Events name their object by it). */
  readonly uid: string | undefined;
  /** Why it waives nothing though it parsed (EX002/EX003 problems); empty when it passes. */
  readonly rejected: readonly string[];
}

export function toWaiver(
  exception: GuardrailException,
  source: ExceptionSource,
  rejected: readonly string[] = [],
): Waiver {
  const { spec, metadata } = exception;
  const approvedBy = spec.approvedBy?.trim() || undefined;
  const requestedBy = spec.requestedBy?.trim() || undefined;
  return {
    name: metadata.name,
    namespace: metadata.namespace,
    rules: new Set(spec.rules),
    target: spec.target,
    reason: spec.reason,
    owner: spec.owner,
    ticket: spec.ticket,
    expires: spec.expires,
    expiresAt: Date.parse(spec.expires),
    requestedBy,
    approvedBy,
    // Defence in depth: EX004 refuses self-approval at admission, but an object written while the webhook was down is not trusted either.
    approved: source.trusted || (approvedBy !== undefined && approvedBy !== requestedBy),
    source,
    renews: spec.renews?.trim() || undefined,
    uid: typeof metadata['uid'] === 'string' ? metadata['uid'] : undefined,
    rejected,
  };
}

export function waiverRef(waiver: Waiver): WaiverRef {
  return { name: waiver.name, namespace: waiver.namespace, expires: waiver.expires };
}

/** `prod-crawl/crawler-egress`: how every message names a waiver. */
export function waiverLabel(waiver: Pick<Waiver, 'name' | 'namespace'>): string {
  return `${waiver.namespace}/${waiver.name}`;
}

/** `kind/name` or `kind selector app=crawler`, for tables and messages. */
export function targetLabel(target: Waiver['target']): string {
  if (target.name !== undefined) return `${target.kind.toLowerCase()}/${target.name}`;
  const terms = [
    ...Object.entries(target.selector?.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`),
    ...(target.selector?.matchExpressions ?? []).map(
      (term) =>
        `${term.key} ${term.operator}${term.values === undefined ? '' : ` (${term.values.join(',')})`}`,
    ),
  ];
  return `${target.kind.toLowerCase()} ${terms.join(',')}`;
}
