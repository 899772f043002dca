import { isSubset, unionAll, type AddressSet } from '../semantics/addresses.ts';
import { portSetNoBroader, type PortSet, type Protocol } from '../semantics/ports.ts';
import { labelSetWithin } from './label-set.ts';
import type { LabelSet, NamespaceSet, Peer } from './policy-meaning.ts';

/**
 * One piece of what a finding is about (DESIGN "Widening"): which pods, which peer, which ports.
 * A finding's subject is a list of atoms; on UPDATE it is pre-existing only when each atom of the
 * new subject lies inside the old subject of the same rule.
 */
export interface SubjectAtom {
  /** The pods the policy selects. */
  readonly pods: LabelSet;
  /** The namespaces of those pods, for dialect policies that may span several (absent: its own). */
  readonly namespaces?: NamespaceSet;
  /** The peer the finding is about; absent when the rule is about the pods alone. */
  readonly peer?: Peer;
  /** The ports opened to it; absent when ports do not matter to the rule. */
  readonly ports?: PortSet;
  /** The protocols left with every port (NP008). */
  readonly protocols?: readonly Protocol[];
}

function namespacesWithin(narrow: NamespaceSet, wide: NamespaceSet): boolean {
  if (wide.kind === 'every') return true;
  if (narrow.kind === 'every') return false;
  if (narrow.kind === 'named' && wide.kind === 'named')
    return narrow.names.every((name) => wide.names.includes(name));
  if (narrow.kind === 'labelled' && wide.kind === 'labelled')
    return labelSetWithin(narrow.labels, wide.labels);
  return false;
}

/** Whether every peer `narrow` denotes is one `wide` denotes (sound, incomplete). */
export function peerWithin(narrow: Peer, wide: Peer): boolean {
  if (wide.kind === 'any') return true;
  switch (narrow.kind) {
    case 'any':
      return false;
    case 'addresses':
      return wide.kind === 'addresses' && isSubset(narrow.addresses, wide.addresses);
    case 'names':
      return (
        wide.kind === 'names' && narrow.patterns.every((pattern) => wide.patterns.includes(pattern))
      );
    case 'pods':
      return (
        wide.kind === 'pods' &&
        namespacesWithin(narrow.pods.namespaces, wide.pods.namespaces) &&
        labelSetWithin(narrow.pods.pods, wide.pods.pods)
      );
  }
}

/** Pods, ports and protocols of `narrow` within `wide`; peers compared by the caller. */
function frameWithin(narrow: SubjectAtom, wide: SubjectAtom): boolean {
  if (!labelSetWithin(narrow.pods, wide.pods)) return false;
  if (
    narrow.namespaces !== undefined &&
    wide.namespaces !== undefined &&
    !namespacesWithin(narrow.namespaces, wide.namespaces)
  )
    return false;
  if (
    wide.ports !== undefined &&
    (narrow.ports === undefined || !portSetNoBroader(narrow.ports, wide.ports))
  )
    return false;
  const protocols = narrow.protocols;
  return (
    protocols === undefined ||
    protocols.every((protocol) => (wide.protocols ?? []).includes(protocol))
  );
}

function atomWithin(atom: SubjectAtom, old: readonly SubjectAtom[]): boolean {
  const peer = atom.peer;
  if (peer === undefined) return old.some((wide) => frameWithin(atom, wide));
  if (
    old.some(
      (wide) => wide.peer !== undefined && peerWithin(peer, wide.peer) && frameWithin(atom, wide),
    )
  )
    return true;
  // Address sets are compared exactly: the union of the old address atoms that frame this one.
  if (peer.kind !== 'addresses') return false;
  const covering: AddressSet[] = [];
  for (const wide of old)
    if (wide.peer?.kind === 'addresses' && frameWithin(atom, wide))
      covering.push(wide.peer.addresses);
  return covering.length > 1 && isSubset(peer.addresses, unionAll(covering));
}

/** Whether a finding's new subject lies inside the old subject of the same rule. */
export function subjectWithin(
  subject: readonly SubjectAtom[],
  old: readonly SubjectAtom[],
): boolean {
  return subject.every((atom) => atomWithin(atom, old));
}
