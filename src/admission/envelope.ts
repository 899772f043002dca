import type { KubeObject } from '../vocabulary.ts';
import {
  OPERATIONS,
  REQUIRED_OBJECTS,
  type AdmissionRequest,
  type AdmissionReview,
} from './schema.ts';

// The hot-path twin of admissionReviewSchema: the same yes/no, without building a parsed copy
// or an issue list (zod cost ~5 µs a review). Only a "no" goes on to zod, for the messages.

type Fields = Record<string, unknown>;

const isRecord = (value: unknown): value is Fields =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const optionalString = (value: unknown): boolean =>
  value === undefined || typeof value === 'string';
const nonEmptyString = (value: unknown): boolean => typeof value === 'string' && value.length > 0;
const optionalObject = (value: unknown): value is KubeObject | null | undefined =>
  value === undefined || value === null || isRecord(value);
const OPERATION_SET: ReadonlySet<unknown> = new Set(OPERATIONS);

function isStringList(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}

function isUserInfo(value: unknown): boolean {
  if (value === undefined) return true;
  if (!isRecord(value)) return false;
  return (
    optionalString(value['username']) &&
    (value['groups'] === undefined || isStringList(value['groups']))
  );
}

function isGroupVersion(value: unknown, name: 'kind' | 'resource'): boolean {
  return (
    isRecord(value) &&
    typeof value['group'] === 'string' &&
    typeof value['version'] === 'string' &&
    nonEmptyString(value[name])
  );
}

function isRequest(value: unknown): value is AdmissionRequest {
  if (!isRecord(value)) return false;
  const operation = value['operation'];
  if (!OPERATION_SET.has(operation)) return false;
  if (
    !nonEmptyString(value['uid']) ||
    !isGroupVersion(value['kind'], 'kind') ||
    !isGroupVersion(value['resource'], 'resource') ||
    !optionalString(value['subResource']) ||
    !optionalString(value['name']) ||
    !optionalString(value['namespace']) ||
    !isUserInfo(value['userInfo']) ||
    !optionalObject(value['object']) ||
    !optionalObject(value['oldObject']) ||
    (value['dryRun'] !== undefined && typeof value['dryRun'] !== 'boolean')
  ) {
    return false;
  }
  for (const field of REQUIRED_OBJECTS[operation as AdmissionRequest['operation']]) {
    if (value[field] === undefined || value[field] === null) return false;
  }
  return true;
}

/** True exactly when admissionReviewSchema would accept `body`. */
export function isAdmissionReview(body: unknown): body is AdmissionReview {
  return (
    isRecord(body) &&
    body['apiVersion'] === 'admission.k8s.io/v1' &&
    body['kind'] === 'AdmissionReview' &&
    isRequest(body['request'])
  );
}
