import type { JsonPatchOperation as PatchOperation } from '../engine/types.ts';
import { sanitiseWarnings } from '../text.ts';

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  warnings?: string[];
  patchType?: 'JSONPatch';
  patch?: string;
}

export interface Reply {
  readonly allowed: boolean;
  readonly message?: string | undefined;
  readonly warnings?: readonly string[];
  readonly patch?: readonly PatchOperation[];
}

/** Builds the AdmissionReview reply; a deny is 403 Forbidden in `status`, never an HTTP error. */
export function encodeReview(uid: string, reply: Reply) {
  const response: AdmissionResponse = { uid, allowed: reply.allowed };
  if (!reply.allowed)
    response.status = {
      code: 403,
      reason: 'Forbidden',
      message: reply.message ?? 'denied by netguard',
    };
  // Every warning of both webhooks leaves through here, so this is where they are made safe.
  if (reply.warnings !== undefined && reply.warnings.length > 0)
    response.warnings = sanitiseWarnings(reply.warnings);
  if (reply.patch !== undefined && reply.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(reply.patch)).toString('base64');
  }
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}
