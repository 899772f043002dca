import { z } from 'zod';
import { parseCidr } from '../cidr.ts';
import type { Labels } from '../vocabulary.ts';
import type { KubeObject } from '../vocabulary.ts';
import { formatIssues } from '../zod-errors.ts';
import { parseNetworkPolicy, peerSchema, selectorSchema } from '../model/network-policy.ts';
import { meaningOf } from '../model/compile-network-policy.ts';
import { labelSetMatches } from '../model/label-set.ts';
import type { Grant, NamespaceSet, Peer } from '../model/policy-meaning.ts';
import { NAMESPACE_NAME_LABEL } from '../semantics/selectors.ts';
import { PROTOCOLS, type PortSet } from '../semantics/ports.ts';
import type { CompiledPolicy, PeerSpec, PortSpec, RuleSpec } from './model.ts';

// networking.k8s.io/v1 NetworkPolicy as the reachability engine reads it: selectors and peers as
// the rules read them; ports checked for range, since reach computes with them.
const portSchema = z.looseObject({
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).nullish(),
  port: z.union([z.number().int().min(1).max(65535), z.string().min(1)]).nullish(),
  endPort: z.number().int().min(1).max(65535).nullish(),
});
const ruleFields = { ports: z.array(portSchema).nullish() };
const policySchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().min(1).optional() }),
  spec: z.looseObject({
    podSelector: selectorSchema.nullish(),
    policyTypes: z.array(z.enum(['Ingress', 'Egress'])).nullish(),
    ingress: z
      .array(z.looseObject({ from: z.array(peerSchema).nullish(), ...ruleFields }))
      .nullish(),
    egress: z.array(z.looseObject({ to: z.array(peerSchema).nullish(), ...ruleFields })).nullish(),
  }),
});

export const matchesAll = (): boolean => true;

/** ipBlocks must parse (reach computes with them): the first that does not is named. */
function checkIpBlocks(
  peers: readonly z.infer<typeof peerSchema>[] | null | undefined,
  path: string,
): void {
  (peers ?? []).forEach((peer, index) => {
    const block = peer.ipBlock;
    if (block === null || block === undefined) return;
    if (parseCidr(block.cidr) === undefined)
      throw new PolicyError(`${path}[${index}].ipBlock.cidr: "${block.cidr}" is not a CIDR block`);
    (block.except ?? []).forEach((text, at) => {
      if (parseCidr(text) === undefined)
        throw new PolicyError(
          `${path}[${index}].ipBlock.except[${at}]: "${text}" is not a CIDR block`,
        );
    });
  });
}

/** The meaning's namespace set as reach's predicate; undefined for the policy's own namespace. */
export function namespacesPredicate(
  namespaces: NamespaceSet,
  own: string,
): ((labels: Labels) => boolean) | undefined {
  switch (namespaces.kind) {
    case 'every':
      return matchesAll;
    case 'named':
      if (namespaces.names.length === 1 && namespaces.names[0] === own) return undefined;
      return (labels) => namespaces.names.includes(labels[NAMESPACE_NAME_LABEL] ?? '');
    case 'labelled':
      return (labels) => labelSetMatches(namespaces.labels, labels);
  }
}

/** How a dialect's peers differ from a NetworkPolicy's (Cilium CIDRs select no cluster endpoint). */
export interface PeerReading {
  readonly outsideOnly?: boolean;
}

function peerSpec(peer: Peer, own: string, reading: PeerReading): PeerSpec[] {
  switch (peer.kind) {
    case 'addresses':
      // Addresses netguard cannot see (a Service's endpoints) name no address reach knows.
      if (peer.unseen === true) return [];
      return [
        {
          kind: 'ipBlock',
          text: peer.text,
          addresses: peer.addresses,
          ...(reading.outsideOnly === true ? { outsideOnly: true } : {}),
        },
      ];
    case 'pods': {
      const pods = peer.pods.pods;
      return [
        {
          kind: 'selector',
          namespaceMatches: namespacesPredicate(peer.pods.namespaces, own),
          podMatches:
            pods.requirements.length === 0 ? matchesAll : (labels) => labelSetMatches(pods, labels),
        },
      ];
    }
    // NetworkPolicy has neither; other dialects' names are not modelled at L3.
    case 'any':
    case 'names':
      return [];
  }
}

/** The ports of a grant as reach lists them; undefined for every port and protocol. */
function portSpecs(ports: PortSet): PortSpec[] | undefined {
  if (ports.all) return undefined;
  const out: PortSpec[] = [];
  for (const protocol of PROTOCOLS) {
    for (const [first, last] of ports.ranges[protocol])
      out.push({ protocol, port: first, endPort: last === first ? undefined : last });
    for (const name of ports.names[protocol])
      out.push({ protocol, port: name, endPort: undefined });
  }
  return out;
}

/** What of a grant reach cannot match to an address, named by its path. */
function unmodelledParts(grant: Grant): string[] {
  return grant.peers.flatMap((peer) => {
    if (peer.kind === 'names') return [`${peer.path} (DNS names ${peer.patterns.join(', ')})`];
    if (peer.kind === 'addresses' && peer.unseen === true) return [`${peer.path} (${peer.text})`];
    return [];
  });
}

/** One grant as reach reads it: its peers (none named = every peer), ports, action and entities. */
export function ruleSpec(grant: Grant, own: string, reading: PeerReading = {}): RuleSpec {
  const every = grant.peers.some((peer) => peer.kind === 'any');
  const unmodelled = unmodelledParts(grant);
  return {
    peers: every ? undefined : grant.peers.flatMap((peer) => peerSpec(peer, own, reading)),
    ports: portSpecs(grant.ports),
    ...(grant.action === 'allow' ? {} : { action: grant.action }),
    ...(grant.entities === undefined ? {} : { entities: grant.entities }),
    ...(unmodelled.length === 0 ? {} : { unmodelled }),
  };
}

/** A NetworkPolicy the engine cannot read; the message names the field. */
export class PolicyError extends Error {
  override name = 'PolicyError';
}

/**
 * Parses and compiles one NetworkPolicy. `policyTypes` defaults as the API server defaults it:
 * Ingress always, Egress when egress rules are written.
 */
export function compilePolicy(object: KubeObject, defaultNamespace = 'default'): CompiledPolicy {
  const parsed = policySchema.safeParse(object);
  if (!parsed.success)
    throw new PolicyError(`NetworkPolicy ${formatIssues(parsed.error).join('; ')}`);
  const { metadata, spec } = parsed.data;
  const namespace = metadata.namespace ?? defaultNamespace;
  const where = `NetworkPolicy ${namespace}/${metadata.name}: spec`;
  for (const [index, rule] of (spec.ingress ?? []).entries())
    checkIpBlocks(rule.from, `${where}.ingress[${index}].from`);
  for (const [index, rule] of (spec.egress ?? []).entries())
    checkIpBlocks(rule.to, `${where}.egress[${index}].to`);
  // The one meaning every rule reads (src/model/), read here too.
  const view = parseNetworkPolicy(object);
  if (!view.ok) throw new PolicyError(`NetworkPolicy ${view.problems.join('; ')}`);
  const meaning = meaningOf({ ...view.policy, namespace });
  const subject = meaning.subject.pods;
  return {
    namespace,
    name: metadata.name,
    selects:
      subject.requirements.length === 0 ? matchesAll : (labels) => labelSetMatches(subject, labels),
    isolatesIngress: meaning.ingress !== undefined,
    isolatesEgress: meaning.egress !== undefined,
    ingress: (meaning.ingress?.grants ?? []).map((grant) => ruleSpec(grant, namespace)),
    egress: (meaning.egress?.grants ?? []).map((grant) => ruleSpec(grant, namespace)),
  };
}
