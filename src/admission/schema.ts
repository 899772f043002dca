import { z } from 'zod';
import type { KubeObject } from '../vocabulary.ts';

const isObject = (value: unknown): value is KubeObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

// Objects stay opaque here (rules read what they need); only their being objects is checked.
const kubeObject = z.custom<KubeObject>(isObject, { message: 'expected an object' });

const groupVersionKind = z.looseObject({
  group: z.string(),
  version: z.string(),
  kind: z.string().min(1),
});

export const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;

/**
 * What the API server always sends with each operation: the new object on CREATE and UPDATE,
 * the stored one (`oldObject`) on UPDATE and DELETE. A review without them is not one the API
 * server sent, and judging it would admit an object nobody looked at.
 */
export const REQUIRED_OBJECTS: Readonly<
  Record<(typeof OPERATIONS)[number], readonly ('object' | 'oldObject')[]>
> = {
  CREATE: ['object'],
  UPDATE: ['object', 'oldObject'],
  DELETE: ['oldObject'],
  CONNECT: [],
};

const request = z
  .looseObject({
    uid: z.string().min(1),
    kind: groupVersionKind,
    resource: z.looseObject({
      group: z.string(),
      version: z.string(),
      resource: z.string().min(1),
    }),
    subResource: z.string().optional(),
    name: z.string().optional(),
    namespace: z.string().optional(),
    operation: z.enum(OPERATIONS),
    userInfo: z
      .looseObject({ username: z.string().optional(), groups: z.array(z.string()).optional() })
      .optional(),
    object: kubeObject.nullable().optional(),
    oldObject: kubeObject.nullable().optional(),
    dryRun: z.boolean().optional(),
  })
  .superRefine((value, ctx) => {
    for (const field of REQUIRED_OBJECTS[value.operation]) {
      const present = value[field];
      if (present === undefined || present === null) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `required for ${value.operation} (the API server always sends it)`,
        });
      }
    }
  });

/**
 * admission.k8s.io/v1 AdmissionReview as the API server sends it. Unknown fields pass through.
 * This is the definition and the source of every error message; the hot path checks the same
 * with the hand-written guard in envelope.ts, and a test holds the two to the same answers.
 */
export const admissionReviewSchema = z.looseObject({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request,
});

export type AdmissionReview = z.infer<typeof admissionReviewSchema>;
export type AdmissionRequest = AdmissionReview['request'];
