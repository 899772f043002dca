import { isDeepStrictEqual } from 'node:util';
import { isSubset } from '../semantics/addresses.ts';
import { portSetNoBroader } from '../semantics/ports.ts';
import { selectorNoBroader } from '../semantics/selectors.ts';
import type { NetworkPolicy, Peer, PolicyRule } from '../model/network-policy.ts';
import { field } from '../object-access.ts';
import type { RuleTarget } from './types.ts';

const TOKEN = /^(?:\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;

/** `spec.egress[0].to[1].ipBlock.cidr` or `metadata.labels["app.kubernetes.io/name"]` as keys; undefined if it is no field path. */
export function pathKeys(path: string): string[] | undefined {
  const keys: string[] = [];
  let rest = path;
  while (rest !== '') {
    const match = TOKEN.exec(rest);
    if (match === null) return undefined;
    const quoted = match[3];
    keys.push(match[1] ?? match[2] ?? (quoted === undefined ? '' : String(JSON.parse(quoted))));
    rest = rest.slice(match[0].length);
  }
  return keys;
}

function valueAt(object: unknown, keys: readonly string[]): unknown {
  let current: unknown = object;
  for (const key of keys) {
    current = Array.isArray(current) ? current[Number(key)] : field(current, key);
    if (current === undefined) return undefined;
  }
  return current;
}

const peerAt = (policy: NetworkPolicy, path: string): Peer | undefined =>
  [...policy.ingress, ...policy.egress]
    .flatMap((rule) => rule.peers)
    .find((peer) => path.startsWith(`${peer.path}.`));

const ruleAt = (policy: NetworkPolicy, path: string): PolicyRule | undefined =>
  [...policy.ingress, ...policy.egress].find(
    (rule) =>
      path === rule.path || path.startsWith(`${rule.path}.`) || path.startsWith(`${rule.path}[`),
  );

/** The value at the finding's path is the same, or (for an ipBlock) covers no address it did not. */
function valueNoBroader(path: string, before: RuleTarget, after: RuleTarget): boolean {
  const keys = pathKeys(path);
  if (keys === undefined) return true; // not a field path (nothing to compare): rule and path matched
  if (isDeepStrictEqual(valueAt(before.object, keys), valueAt(after.object, keys))) return true;
  const oldPolicy = before.view.networkPolicy;
  const newPolicy = after.view.networkPolicy;
  if (oldPolicy === undefined || newPolicy === undefined || !path.includes('.ipBlock'))
    return false;
  const oldBlock = peerAt(oldPolicy, path)?.ipBlock?.addresses;
  const newBlock = peerAt(newPolicy, path)?.ipBlock?.addresses;
  return oldBlock !== undefined && newBlock !== undefined && isSubset(newBlock, oldBlock);
}

/**
 * Whether an UPDATE leaves a pre-existing finding no broader than it was: the value at its path no
 * broader, and for a NetworkPolicy the podSelector (which pods) and the rule's ports (which ports)
 * no broader. Otherwise the change widened the violation, which makes it a new one.
 */
export function notWidened(path: string, before: RuleTarget, after: RuleTarget): boolean {
  if (!valueNoBroader(path, before, after)) return false;
  const oldPolicy = before.view.networkPolicy;
  const newPolicy = after.view.networkPolicy;
  if (oldPolicy === undefined || newPolicy === undefined) return true;
  if (!selectorNoBroader(newPolicy.podSelector, oldPolicy.podSelector)) return false;
  const oldRule = ruleAt(oldPolicy, path);
  const newRule = ruleAt(newPolicy, path);
  if (newRule === undefined) return true;
  return oldRule !== undefined && portSetNoBroader(newRule.portSet, oldRule.portSet);
}
