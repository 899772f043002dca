import type { z } from 'zod';

/** `spec.environments[1].mode` from zod's path array. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** One line per issue, `path: problem`, so a user sees which field to fix. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.flatMap((issue) => {
    // One line per unknown key, at the key itself: `spec.excludeNamespaces: unknown field`.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field`);
    }
    const path = formatPath(issue.path);
    // zod words a missing field as a type mismatch; users understand "required".
    const message =
      issue.code === 'invalid_type' && issue.message.endsWith('received undefined')
        ? `required (${issue.expected})`
        : issue.message;
    return [path === '' ? message : `${path}: ${message}`];
  });
}
