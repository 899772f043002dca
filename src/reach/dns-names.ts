/**
 * DNS names a capture says a destination was reached by (Hubble's `destination_names`, learnt by
 * Cilium's DNS proxy). They are requester-controlled text: only well-formed host names are kept
 * (lower case, no trailing dot, no wildcard), and never more than a few per destination.
 */
const LABEL = '[a-z0-9_](?:[-a-z0-9_]{0,61}[a-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)(?:${LABEL}\\.)+${LABEL}$`);

/** At most this many names per flow: a proposal lists each, and a capture is hostile input. */
export const MAX_NAMES_PER_FLOW = 16;

/** The well-formed host names among `values`, normalised, unique, sorted, and bounded. */
export function dnsNamesOf(values: unknown): string[] {
  if (!Array.isArray(values)) return [];
  const names = new Set<string>();
  for (const value of values.slice(0, MAX_NAMES_PER_FLOW * 4)) {
    if (typeof value !== 'string') continue;
    const name = value.trim().toLowerCase().replace(/\.$/, '');
    if (HOST_NAME.test(name)) names.add(name);
  }
  return [...names].sort().slice(0, MAX_NAMES_PER_FLOW);
}

/** Two flows' names together, bounded as one. */
export function mergeNames(
  a: readonly string[] | undefined,
  b: readonly string[] | undefined,
): string[] | undefined {
  if (a === undefined && b === undefined) return undefined;
  return dnsNamesOf([...(a ?? []), ...(b ?? [])]);
}
