import { randomUUID } from 'node:crypto';

const UID_MARK = '00000000-0000-4000-8000-uid-placeholder';

/** A serialised AdmissionReview split around its uid, so each request costs one concat, not a JSON.stringify. */
export interface BodyTemplate {
  readonly prefix: string;
  readonly suffix: string;
  /** Size of one body in bytes (UTF-8), for the table. */
  readonly bytes: number;
}

export function bodyTemplate(review: { request: { uid: string } }): BodyTemplate {
  const text = JSON.stringify({ ...review, request: { ...review.request, uid: UID_MARK } });
  const at = text.indexOf(UID_MARK);
  if (at < 0 || text.indexOf(UID_MARK, at + 1) >= 0)
    throw new Error('the uid placeholder must occur exactly once');
  const prefix = text.slice(0, at);
  const suffix = text.slice(at + UID_MARK.length);
  return { prefix, suffix, bytes: Buffer.byteLength(prefix + randomUUID() + suffix) };
}

/** A fresh uid per request, as the API server sends it; the reply must echo it. */
export function bodyWithUid(template: BodyTemplate): { uid: string; body: string } {
  const uid = randomUUID();
  return { uid, body: template.prefix + uid + template.suffix };
}
