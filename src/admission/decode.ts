import { formatIssues } from '../zod-errors.ts';
import type { AdmissionInput } from '../engine/types.ts';
import { isAdmissionReview } from './envelope.ts';
import { admissionReviewSchema, type AdmissionRequest } from './schema.ts';

export type DecodeResult = { ok: true; input: AdmissionInput } | { ok: false; problems: string[] };

export function toAdmissionInput(request: AdmissionRequest): AdmissionInput {
  return {
    uid: request.uid,
    kind: request.kind.kind,
    group: request.kind.group,
    version: request.kind.version,
    operation: request.operation,
    namespace: request.namespace ?? '',
    name: request.name ?? '',
    object: request.object ?? undefined,
    oldObject: request.oldObject ?? undefined,
    user: { username: request.userInfo?.username ?? '', groups: request.userInfo?.groups ?? [] },
    dryRun: request.dryRun ?? false,
    subResource: request.subResource || undefined,
  };
}

/** Validates a parsed JSON body as an AdmissionReview v1; problems name the field. */
export function decodeReview(body: unknown): DecodeResult {
  // The guard answers every review the API server sends; zod runs only to word a refusal.
  if (isAdmissionReview(body)) {
    const request = body.request;
    return { ok: true, input: toAdmissionInput(request) };
  }
  const parsed = admissionReviewSchema.safeParse(body);
  if (!parsed.success) return { ok: false, problems: formatIssues(parsed.error) };
  // Unreachable while the guard and the schema agree (test/server/envelope.test.ts holds them to it).
  const request = parsed.data.request;
  return { ok: true, input: toAdmissionInput(request) };
}
