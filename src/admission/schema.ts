import { z } from 'zod';
import type { KubeObject } from '../vocabulary.ts';

const isObject = (value: unknown): value is KubeObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

// Objects stay opaque here (rules read what they need); only their being objects is checked.
const kubeObject = z.custom<KubeObject>(isObject, { message: 'expected an object' });

const groupVersionKind = z.looseObject({ group: z.string(), version: z.string(), kind: z.string().min(1) });

/** admission.k8s.io/v1 AdmissionReview as the API server sends it. Unknown fields pass through. */
export const admissionReviewSchema = z.looseObject({
  apiVersion: z.literal('admission.k8s.io/v1'),
  kind: z.literal('AdmissionReview'),
  request: z.looseObject({
    uid: z.string().min(1),
    kind: groupVersionKind,
    resource: z.looseObject({ group: z.string(), version: z.string(), resource: z.string().min(1) }),
    subResource: z.string().optional(),
    name: z.string().optional(),
    namespace: z.string().optional(),
    operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
    userInfo: z
      .looseObject({ username: z.string().optional(), groups: z.array(z.string()).optional() })
      .optional(),
    object: kubeObject.nullable().optional(),
    oldObject: kubeObject.nullable().optional(),
    dryRun: z.boolean().optional(),
  }),
});

export type AdmissionReview = z.infer<typeof admissionReviewSchema>;
export type AdmissionRequest = AdmissionReview['request'];
