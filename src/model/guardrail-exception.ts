import { z } from 'zod';
import { labelSelectorSchema } from '../labels.ts';

export const EXCEPTION_GROUP = 'netguard.dev';
export const EXCEPTION_VERSION = 'v1alpha1';
export const EXCEPTION_API_VERSION = `${EXCEPTION_GROUP}/${EXCEPTION_VERSION}`;
export const EXCEPTION_KIND = 'GuardrailException';
export const EXCEPTION_PLURAL = 'guardrailexceptions';

/** The GuardrailException collection: in one namespace (POST creates there), or in every namespace. */
export const exceptionsPath = (namespace?: string): string =>
  namespace === undefined
    ? `/apis/${EXCEPTION_GROUP}/${EXCEPTION_VERSION}/${EXCEPTION_PLURAL}`
    : `/apis/${EXCEPTION_GROUP}/${EXCEPTION_VERSION}/namespaces/${encodeURIComponent(namespace)}/${EXCEPTION_PLURAL}`;

/** RFC 3339 with a zone, as Kubernetes writes timestamps: `2026-12-06T00:00:00Z`. */
export const timestampSchema = z.iso.datetime({
  offset: true,
  error: (issue) =>
    issue.input === undefined
      ? 'required: every waiver expires'
      : 'expected an RFC 3339 timestamp such as "2026-12-06T00:00:00Z"',
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

/**
 * A GuardrailException as the registry uses it: every field a waiver needs is present and typed.
 * Kubernetes objects are loose (the API server adds metadata); the spec is ours and strict.
 */
export const guardrailExceptionSchema = z.looseObject({
  apiVersion: z.literal(EXCEPTION_API_VERSION),
  kind: z.literal(EXCEPTION_KIND),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().min(1, {
      message: 'a waiver lives in the namespace it covers (netguard-system for Namespace waivers)',
    }),
  }),
  spec: z.strictObject({
    rules: z.array(z.string().min(1)).min(1),
    target: exceptionTargetSchema,
    reason: z.string().trim().min(1),
    owner: z
      .string()
      .trim()
      .min(1, { message: 'required: who answers for this waiver (netguard fills it in on apply)' }),
    ticket: z.string().optional(),
    expires: timestampSchema,
    requestedBy: z.string().optional(),
    approvedBy: z.string().optional(),
    /** The waiver this one continues (`netguard exception renew`); it waives nothing until approved. */
    renews: z.string().optional(),
  }),
});
export type GuardrailException = z.infer<typeof guardrailExceptionSchema>;

const draftSchema = z
  .looseObject({
    spec: z
      .looseObject({
        rules: z.array(z.unknown()).min(1).optional().catch(undefined),
        target: z
          .looseObject({
            kind: z.string().optional().catch(undefined),
            name: z.unknown().optional(),
            selector: z.unknown().optional(),
          })
          .optional()
          .catch(undefined),
        reason: z.unknown().optional(),
        owner: z.unknown().optional(),
        ticket: z.unknown().optional(),
        expires: z.unknown().optional(),
      })
      .optional()
      .catch(undefined),
  })
  .catch({});

/**
 * A GuardrailException as the EX rules read it, parsed once per review: each spec field on its
 * own, typed where it is well-formed, so one bad field never hides another's finding. The
 * strict `guardrailExceptionSchema` is what the registry needs; this is what a reviewer needs.
 */
export interface ExceptionDraft {
  /** `spec.rules` as written, when it is a non-empty list. */
  readonly rules: readonly unknown[] | undefined;
  /** `spec.target`, when it is an object. */
  readonly target:
    | {
        readonly kind: string;
        readonly name: unknown;
        /** As written, and parsed (undefined when absent or not a label selector). */
        readonly selector: unknown;
        readonly labelSelector: z.infer<typeof labelSelectorSchema> | undefined;
      }
    | undefined;
  readonly reason: unknown;
  readonly owner: unknown;
  readonly ticket: unknown;
  readonly expires:
    | { readonly state: 'missing' }
    | { readonly state: 'invalid'; readonly written: unknown }
    | { readonly state: 'valid'; readonly text: string; readonly at: number };
}

export function exceptionDraftOf(object: unknown): ExceptionDraft {
  const spec = draftSchema.parse(object).spec;
  const target = spec?.target;
  const selector = labelSelectorSchema.safeParse(target?.selector);
  const written = spec?.expires;
  const timestamp = timestampSchema.safeParse(written);
  return {
    rules: spec?.rules,
    target:
      target === undefined
        ? undefined
        : {
            kind: target.kind ?? '',
            name: target.name,
            selector: target.selector,
            labelSelector: selector.success ? selector.data : undefined,
          },
    reason: spec?.reason,
    owner: spec?.owner,
    ticket: spec?.ticket,
    expires:
      written === undefined || written === null || written === ''
        ? { state: 'missing' }
        : timestamp.success
          ? { state: 'valid', text: timestamp.data, at: Date.parse(timestamp.data) }
          : { state: 'invalid', written },
  };
}
