import { z } from 'zod';
import { labelSelectorSchema } from '../labels.ts';

export const EXCEPTION_GROUP = 'netguard.dev';
export const EXCEPTION_VERSION = 'v1alpha1';
export const EXCEPTION_API_VERSION = `${EXCEPTION_GROUP}/${EXCEPTION_VERSION}`;
export const EXCEPTION_KIND = 'GuardrailException';
export const EXCEPTION_PLURAL = 'guardrailexceptions';

/**
 * The kinds a waiver may target, spelled exactly as Kubernetes spells them: the kinds rules judge
 * (GuardrailExceptions aside: EX rules cannot be waived). The CRD schema enumerates the same list.
 */
export const WAIVABLE_KINDS: readonly string[] = [
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Job',
  'CronJob',
  'NetworkPolicy',
  'Namespace',
];

/** RFC 3339 with a zone, as Kubernetes writes timestamps: `2026-12-06T00:00:00Z`. */
export const timestampSchema = z.iso.datetime({
  offset: true,
  error: (issue) => (issue.input === undefined ? 'required: every waiver expires' : 'expected an RFC 3339 timestamp such as "2026-12-06T00:00:00Z"'),
});

export const exceptionTargetSchema = z
  .strictObject({
    kind: z.string().min(1),
    name: z.string().min(1).optional(),
    selector: labelSelectorSchema.optional(),
  })
  .refine((target) => (target.name === undefined) !== (target.selector === undefined), {
    message: 'name the target, or give a label selector, not both',
  });
export type ExceptionTarget = z.infer<typeof exceptionTargetSchema>;

/**
 * A GuardrailException as the registry uses it: every field a waiver needs is present and typed.
 * Kubernetes objects are loose (the API server adds metadata); the spec is ours and strict.
 */
export const guardrailExceptionSchema = z.looseObject({
  apiVersion: z.literal(EXCEPTION_API_VERSION),
  kind: z.literal(EXCEPTION_KIND),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().min(1, { message: 'a waiver lives in the namespace it covers (netguard-system for Namespace waivers)' }),
  }),
  spec: z.strictObject({
    rules: z.array(z.string().min(1)).min(1),
    target: exceptionTargetSchema,
    reason: z.string().trim().min(1),
    owner: z.string().trim().min(1),
    ticket: z.string().optional(),
    expires: timestampSchema,
    requestedBy: z.string().optional(),
    approvedBy: z.string().optional(),
  }),
});
export type GuardrailException = z.infer<typeof guardrailExceptionSchema>;
