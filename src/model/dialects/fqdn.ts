/**
 * Cilium `toFQDNs` names against `approvedEgressFQDNs`, with Cilium's wildcard semantics: `*`
 * alone matches every name; inside a pattern `*` matches one label's characters (no dot); a
 * leading `**.` matches any number of labels.
 */
const escapeRegExp = (text: string): string => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** Whether a written pattern matches every DNS name (`*`, `**`, `**.`): the internet. */
export const opensEveryName = (pattern: string): boolean => /^\*+\.?$/.test(pattern.trim());

function approvedPattern(approved: string): RegExp {
  const text = approved.trim().toLowerCase().replace(/\.$/, '');
  if (opensEveryName(text)) return /^.*$/;
  const multi = text.startsWith('**.');
  const body = (multi ? text.slice(3) : text).split('*').map(escapeRegExp).join('[-a-z0-9_]*');
  return new RegExp(`^${multi ? '(?:.+\\.)?' : ''}${body}$`);
}

/**
 * A requested name or pattern is approved when an approved entry covers it: listed verbatim, or
 * matched by an approved pattern (the requested `*` is then a literal only `**.` or `*` can cover).
 */
export function fqdnApproved(requested: string, approved: readonly string[]): boolean {
  const wanted = requested.trim().toLowerCase().replace(/\.$/, '');
  return approved.some(
    (entry) =>
      entry.trim().toLowerCase().replace(/\.$/, '') === wanted ||
      approvedPattern(entry).test(wanted),
  );
}
