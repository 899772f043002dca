import { z } from 'zod';
import { parseCidr } from '../cidr.ts';
import { selectorMatches, type LabelSelector } from '../labels.ts';
import type { Labels } from '../vocabulary.ts';
import type { KubeObject } from '../vocabulary.ts';
import { formatIssues } from '../zod-errors.ts';
import { peerSchema, selectorSchema } from '../model/network-policy.ts';
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

type SelectorInput = z.infer<typeof selectorSchema>;

function toSelector(input: SelectorInput): LabelSelector {
  return {
    matchLabels: input.matchLabels ?? {},
    matchExpressions: (input.matchExpressions ?? []).map((term) => ({
      key: term.key,
      operator: term.operator,
      values: term.values ?? [],
    })),
  };
}

const matchesAll = (): boolean => true;

/** A selector as a predicate; the empty selector matches everything without looking. */
export function compileSelector(
  input: SelectorInput | null | undefined,
): (labels: Labels) => boolean {
  if (input === null || input === undefined) return matchesAll;
  const selector = toSelector(input);
  const empty =
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0;
  return empty ? matchesAll : (labels) => selectorMatches(selector, labels);
}

function compileIpBlock(cidr: string, except: readonly string[], path: string): PeerSpec {
  const range = parseCidr(cidr);
  if (range === undefined)
    throw new PolicyError(`${path}.ipBlock.cidr: "${cidr}" is not a CIDR block`);
  const ranges = except.map((text, index) => {
    const parsed = parseCidr(text);
    if (parsed === undefined)
      throw new PolicyError(`${path}.ipBlock.except[${index}]: "${text}" is not a CIDR block`);
    return parsed;
  });
  const text = except.length === 0 ? cidr : `${cidr} except ${except.join(', ')}`;
  return { kind: 'ipBlock', text, cidr: range, except: ranges };
}

function compilePeer(peer: z.infer<typeof peerSchema>, path: string): PeerSpec {
  if (peer.ipBlock !== null && peer.ipBlock !== undefined) {
    return compileIpBlock(peer.ipBlock.cidr, peer.ipBlock.except ?? [], path);
  }
  const hasNamespace = peer.namespaceSelector !== null && peer.namespaceSelector !== undefined;
  return {
    kind: 'selector',
    namespaceMatches: hasNamespace ? compileSelector(peer.namespaceSelector) : undefined,
    podMatches: compileSelector(peer.podSelector),
  };
}

function compilePorts(
  ports: readonly z.infer<typeof portSchema>[] | null | undefined,
): PortSpec[] | undefined {
  if (ports === null || ports === undefined || ports.length === 0) return undefined;
  return ports.map((port) => ({
    protocol: port.protocol ?? 'TCP',
    port: port.port ?? undefined,
    endPort: port.endPort ?? undefined,
  }));
}

function compileRule(
  peers: readonly z.infer<typeof peerSchema>[] | null | undefined,
  ports: Parameters<typeof compilePorts>[0],
  path: string,
): RuleSpec {
  const list = peers ?? [];
  return {
    peers:
      list.length === 0
        ? undefined
        : list.map((peer, index) => compilePeer(peer, `${path}[${index}]`)),
    ports: compilePorts(ports),
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
  const declared = spec.policyTypes ?? [];
  const types =
    declared.length > 0
      ? new Set(declared)
      : new Set((spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress']);
  const where = `NetworkPolicy ${metadata.namespace ?? defaultNamespace}/${metadata.name}: spec`;
  return {
    namespace: metadata.namespace ?? defaultNamespace,
    name: metadata.name,
    selects: compileSelector(spec.podSelector),
    isolatesIngress: types.has('Ingress'),
    isolatesEgress: types.has('Egress'),
    ingress: (spec.ingress ?? []).map((rule, index) =>
      compileRule(rule.from, rule.ports, `${where}.ingress[${index}].from`),
    ),
    egress: (spec.egress ?? []).map((rule, index) =>
      compileRule(rule.to, rule.ports, `${where}.egress[${index}].to`),
    ),
  };
}
