/**
 * The writes of the unblock path, against the API server (RBAC and netguard's webhooks judge them
 * there): create a waiver under a name that is free, approve one, renew one.
 */
import { KubeApiError } from '../errors.ts';
import type { KubeRest } from './rest.ts';
import type { KubeObject } from '../vocabulary.ts';
import {
  exceptionsPath as exceptionCollection,
  guardrailExceptionSchema,
  type GuardrailException,
} from '../model/guardrail-exception.ts';
import { formatIssues } from '../zod-errors.ts';

/** The collection path of GuardrailExceptions in one namespace (POST creates there). */
export const exceptionsPath = (namespace: string): string => exceptionCollection(namespace);
export const exceptionPath = (namespace: string, name: string): string =>
  `${exceptionsPath(namespace)}/${encodeURIComponent(name)}`;

/** Bounded: a namespace with 20 waivers of one rule on one target has a problem a suffix won't solve. */
const MAX_NAME_TRIES = 20;

/** `base`, `base-2`, `base-3`... each at most 63 characters. */
export function candidateName(base: string, attempt: number): string {
  if (attempt === 1) return base;
  const suffix = `-${attempt}`;
  return `${base.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
}

/** A renewal starts from the name its chain started with: `np004-web-3` → `np004-web`. */
export const nameStem = (name: string): string => name.replace(/-\d+$/, '') || name;

/**
 * Creates the waiver under the first free name from `base` on. An old waiver, expired or not, keeps
 * its name (it is the record of what was waived), so a new request never collides with it.
 */
export async function createWithFreeName(
  rest: KubeRest,
  object: KubeObject & { metadata: { name: string; namespace: string } },
  base: string,
): Promise<KubeObject> {
  for (let attempt = 1; ; attempt++) {
    const name = candidateName(base, attempt);
    try {
      return await rest.create(exceptionsPath(object.metadata.namespace), {
        ...object,
        metadata: { ...object.metadata, name },
      });
    } catch (err) {
      if (
        !(err instanceof KubeApiError && err.code === 409 && err.reason === 'AlreadyExists') ||
        attempt >= MAX_NAME_TRIES
      )
        throw err;
    }
  }
}

/** A stored waiver, parsed; a broken one is an error naming the field. */
export async function readException(
  rest: KubeRest,
  namespace: string,
  name: string,
): Promise<{ raw: KubeObject; exception: GuardrailException }> {
  const raw = await rest.get(exceptionPath(namespace, name));
  const parsed = guardrailExceptionSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `GuardrailException ${namespace}/${name} does not parse: ${formatIssues(parsed.error).join('; ')}`,
    );
  return { raw, exception: parsed.data };
}

/**
 * Signs the approval: a merge patch of `spec.approvedBy`, conditional on the version the approver
 * read (what was reviewed is what gets approved). EX004 at the webhook checks group and requester.
 */
export function approve(
  rest: KubeRest,
  exception: GuardrailException,
  resourceVersion: string,
  username: string,
): Promise<KubeObject> {
  return rest.mergePatch(exceptionPath(exception.metadata.namespace, exception.metadata.name), {
    metadata: { resourceVersion },
    spec: { approvedBy: username },
  });
}

/** The pending successor of a waiver: same rules and target, a new expiry, and `spec.renews` naming the old one. */
export function renewalOf(
  old: GuardrailException,
  expires: string,
  changes: { readonly reason?: string | undefined; readonly owner?: string | undefined },
): KubeObject & { metadata: { name: string; namespace: string } } {
  const { spec, metadata } = old;
  return {
    apiVersion: old.apiVersion,
    kind: old.kind,
    metadata: { name: nameStem(metadata.name), namespace: metadata.namespace },
    spec: {
      rules: [...spec.rules],
      target: spec.target,
      reason: changes.reason ?? spec.reason,
      owner: changes.owner ?? spec.owner,
      ...(spec.ticket === undefined ? {} : { ticket: spec.ticket }),
      expires,
      renews: metadata.name,
    },
  };
}
