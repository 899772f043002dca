import { z } from 'zod';
import type { KubeObject } from '../vocabulary.ts';
import type { LabelSelector } from '../labels.ts';
import { isWorld, parseCidr } from '../cidr.ts';
import {
  ipBlockAddresses,
  NO_ADDRESSES,
  unionAll,
  type AddressSet,
} from '../semantics/addresses.ts';
import { portSet, type PolicyPort, type PortSet, type Protocol } from '../semantics/ports.ts';

export type { PolicyPort, Protocol };
import { formatIssues } from '../zod-errors.ts';

// The NetworkPolicy shape (networking.k8s.io/v1) as far as the NP rules (and `reach`) read it. Unknown fields
// pass through; YAML's `from:` with nothing after it is null, which Kubernetes reads as absent.
export const selectorSchema = z.looseObject({
  matchLabels: z.record(z.string(), z.string()).nullish(),
  matchExpressions: z
    .array(
      z.looseObject({
        key: z.string(),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).nullish(),
      }),
    )
    .nullish(),
});

export const peerSchema = z.looseObject({
  podSelector: selectorSchema.nullish(),
  namespaceSelector: selectorSchema.nullish(),
  ipBlock: z.looseObject({ cidr: z.string(), except: z.array(z.string()).nullish() }).nullish(),
});

const portSchema = z.looseObject({
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).nullish(),
  port: z.union([z.number().int(), z.string()]).nullish(),
  endPort: z.number().int().nullish(),
});

const peersSchema = z.array(peerSchema).nullish();
const portsSchema = z.array(portSchema).nullish();
const ingressRuleSchema = z.looseObject({ from: peersSchema, ports: portsSchema });
const egressRuleSchema = z.looseObject({ to: peersSchema, ports: portsSchema });

const networkPolicySchema = z.looseObject({
  metadata: z
    .looseObject({ name: z.string().nullish(), namespace: z.string().nullish() })
    .nullish(),
  spec: z.looseObject({
    podSelector: selectorSchema.nullish(),
    policyTypes: z.array(z.enum(['Ingress', 'Egress'])).nullish(),
    ingress: z.array(ingressRuleSchema).nullish(),
    egress: z.array(egressRuleSchema).nullish(),
  }),
});

export type Direction = 'ingress' | 'egress';

export interface Selector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: NonNullable<LabelSelector['matchExpressions']>;
}

export interface IpBlock {
  readonly cidr: string;
  readonly except: readonly string[];
  /** The CIDR minus `except`; undefined when the CIDR does not parse. */
  readonly addresses: AddressSet | undefined;
}

export interface Peer {
  /** `spec.egress[1].to[0]` */
  readonly path: string;
  readonly index: number;
  readonly podSelector: Selector | undefined;
  readonly namespaceSelector: Selector | undefined;
  readonly ipBlock: IpBlock | undefined;
}

export interface PolicyRule {
  readonly direction: Direction;
  /** `spec.egress[1]` */
  readonly path: string;
  readonly index: number;
  /** `from` or `to`. */
  readonly peersField: 'from' | 'to';
  /** Absent and empty both mean any peer; kept apart only for the words of a message. */
  readonly peersWritten: 'absent' | 'empty' | 'listed';
  readonly peers: readonly Peer[];
  /** Empty means every port and protocol. */
  readonly ports: readonly PolicyPort[];
  /** What `ports` opens, as a set. */
  readonly portSet: PortSet;
  /** Every address the rule's ipBlock peers cover together. */
  readonly addresses: AddressSet;
  /** The rule's ipBlocks other than 0.0.0.0/0 and ::/0, together. */
  readonly partialAddresses: AddressSet;
}

export interface NetworkPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly podSelector: Selector;
  /** As written: undefined when `policyTypes` is absent or empty (the API server then infers it). */
  readonly declaredPolicyTypes: readonly Direction[] | undefined;
  /** What Kubernetes enforces: the declared types, else Ingress plus Egress when egress rules exist. */
  readonly policyTypes: ReadonlySet<Direction>;
  /** Every rule, in effect or not; `rulesInEffect` filters by policyTypes. */
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
  /** Per direction in effect: every address the ipBlocks of all its rules cover together. */
  readonly addresses: Readonly<Record<Direction, AddressSet>>;
  /** The same without 0.0.0.0/0 and ::/0: whether smaller blocks compose the internet. */
  readonly partialAddresses: Readonly<Record<Direction, AddressSet>>;
}

type SelectorInput = z.infer<typeof selectorSchema> | null | undefined;
type PeerInput = z.infer<typeof peerSchema>;
type PortInput = z.infer<typeof portSchema>;

function toSelector(input: SelectorInput): Selector | undefined {
  if (input === null || input === undefined) return undefined;
  return {
    matchLabels: input.matchLabels ?? {},
    matchExpressions: (input.matchExpressions ?? []).map((term) => ({
      key: term.key,
      operator: term.operator,
      values: term.values ?? [],
    })),
  };
}

export function isEmptySelector(selector: Selector): boolean {
  return Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0;
}

/** Label keys a selector reads, in matchLabels and matchExpressions. */
export function selectorKeys(selector: Selector): string[] {
  return [
    ...Object.keys(selector.matchLabels),
    ...selector.matchExpressions.map((term) => term.key),
  ];
}

function toPeer(input: PeerInput, path: string, index: number): Peer {
  const block = input.ipBlock;
  const ipBlock =
    block === null || block === undefined
      ? undefined
      : {
          cidr: block.cidr,
          except: block.except ?? [],
          addresses: ipBlockAddresses(block.cidr, block.except ?? []),
        };
  return {
    path,
    index,
    podSelector: toSelector(input.podSelector),
    namespaceSelector: toSelector(input.namespaceSelector),
    ipBlock,
  };
}

/** `0.0.0.0/0` or `::/0` as written (an `except` list aside): the internet in one block. */
export function isWholeFamily(peer: Peer): boolean {
  const range = peer.ipBlock === undefined ? undefined : parseCidr(peer.ipBlock.cidr);
  return range !== undefined && isWorld(range);
}

function toPort(input: PortInput): PolicyPort {
  return {
    protocol: input.protocol ?? 'TCP',
    port: input.port ?? undefined,
    endPort: input.endPort ?? undefined,
  };
}

interface RuleInput {
  readonly peers: readonly PeerInput[] | null | undefined;
  readonly ports: readonly PortInput[] | null | undefined;
}

function toRules(direction: Direction, rules: readonly RuleInput[]): PolicyRule[] {
  const peersField = direction === 'ingress' ? 'from' : 'to';
  return rules.map((rule, index) => {
    const path = `spec.${direction}[${index}]`;
    const peers = rule.peers ?? [];
    const ports = (rule.ports ?? []).map(toPort);
    const parsedPeers = peers.map((peer, peerIndex) =>
      toPeer(peer, `${path}.${peersField}[${peerIndex}]`, peerIndex),
    );
    return {
      direction,
      path,
      index,
      peersField,
      peersWritten:
        rule.peers === null || rule.peers === undefined
          ? 'absent'
          : peers.length === 0
            ? 'empty'
            : 'listed',
      peers: parsedPeers,
      ports,
      portSet: portSet(ports),
      addresses: unionAll(parsedPeers.map((peer) => peer.ipBlock?.addresses ?? NO_ADDRESSES)),
      partialAddresses: unionAll(
        parsedPeers.map((peer) =>
          isWholeFamily(peer) ? NO_ADDRESSES : (peer.ipBlock?.addresses ?? NO_ADDRESSES),
        ),
      ),
    };
  });
}

export type ParseResult = { ok: true; policy: NetworkPolicy } | { ok: false; problems: string[] };

/** Validates a NetworkPolicy's shape; problems are `spec.egress[0].ports[0].port: ...` lines. */
export function parseNetworkPolicy(object: unknown): ParseResult {
  const parsed = networkPolicySchema.safeParse(object);
  if (!parsed.success) return { ok: false, problems: formatIssues(parsed.error) };
  const { spec, metadata } = parsed.data;
  const ingress = toRules(
    'ingress',
    (spec.ingress ?? []).map((rule) => ({ peers: rule.from, ports: rule.ports })),
  );
  const egress = toRules(
    'egress',
    (spec.egress ?? []).map((rule) => ({ peers: rule.to, ports: rule.ports })),
  );
  const declared =
    spec.policyTypes !== null && spec.policyTypes !== undefined && spec.policyTypes.length > 0
      ? [...new Set(spec.policyTypes)]
      : undefined;
  const inferred: Direction[] = egress.length > 0 ? ['ingress', 'egress'] : ['ingress'];
  const policyTypes = new Set<Direction>(
    declared?.map((type) => (type === 'Ingress' ? 'ingress' : 'egress')) ?? inferred,
  );
  return {
    ok: true,
    policy: {
      name: metadata?.name ?? '',
      namespace: metadata?.namespace ?? '',
      podSelector: toSelector(spec.podSelector) ?? { matchLabels: {}, matchExpressions: [] },
      declaredPolicyTypes: declared?.map((type) => (type === 'Ingress' ? 'ingress' : 'egress')),
      policyTypes,
      ingress,
      egress,
      addresses: {
        ingress: policyTypes.has('ingress')
          ? unionAll(ingress.map((rule) => rule.addresses))
          : NO_ADDRESSES,
        egress: policyTypes.has('egress')
          ? unionAll(egress.map((rule) => rule.addresses))
          : NO_ADDRESSES,
      },
      partialAddresses: {
        ingress: policyTypes.has('ingress')
          ? unionAll(ingress.map((rule) => rule.partialAddresses))
          : NO_ADDRESSES,
        egress: policyTypes.has('egress')
          ? unionAll(egress.map((rule) => rule.partialAddresses))
          : NO_ADDRESSES,
      },
    },
  };
}

/** Rules of the directions the policy actually restricts; rules of other directions have no effect. */
export function rulesInEffect(policy: NetworkPolicy, direction?: Direction): PolicyRule[] {
  const directions: Direction[] = direction === undefined ? ['ingress', 'egress'] : [direction];
  return directions
    .filter((d) => policy.policyTypes.has(d))
    .flatMap((d) => (d === 'ingress' ? policy.ingress : policy.egress));
}

/** Every selector in effect with its path: spec.podSelector and the peers' selectors of the rules in effect. */
export function selectorsOf(policy: NetworkPolicy): { path: string; selector: Selector }[] {
  const found: { path: string; selector: Selector }[] = [
    { path: 'spec.podSelector', selector: policy.podSelector },
  ];
  for (const rule of rulesInEffect(policy)) {
    for (const peer of rule.peers) {
      if (peer.podSelector !== undefined)
        found.push({ path: `${peer.path}.podSelector`, selector: peer.podSelector });
      if (peer.namespaceSelector !== undefined)
        found.push({ path: `${peer.path}.namespaceSelector`, selector: peer.namespaceSelector });
    }
  }
  return found;
}

/** The label selector in the form `selectorMatches` reads. */
export function asLabelSelector(selector: Selector): LabelSelector {
  return {
    matchLabels: { ...selector.matchLabels },
    matchExpressions: selector.matchExpressions.map((term) => ({
      ...term,
      values: [...(term.values ?? [])],
    })),
  };
}

/** `80/TCP, 443/TCP` for messages; named ports are validated by the API server as short DNS labels. */
export function describePorts(ports: readonly PolicyPort[]): string {
  return ports
    .map((entry) => {
      const port =
        entry.port === undefined
          ? 'any port'
          : entry.endPort !== undefined
            ? `${entry.port}-${entry.endPort}`
            : JSON.stringify(entry.port).replaceAll('"', '');
      return `${port}/${entry.protocol}`;
    })
    .join(', ');
}

/** For messages: a label selector written like `app=web, tier in (a,b)`; keys and values quoted when unusual. */
export function describeSelector(selector: Selector): string {
  const plain = (text: string): string => (/^[\w./-]*$/.test(text) ? text : JSON.stringify(text));
  const parts = Object.entries(selector.matchLabels).map(
    ([key, value]) => `${plain(key)}=${plain(value)}`,
  );
  for (const term of selector.matchExpressions) {
    const values = (term.values ?? []).map(plain).join(',');
    parts.push(
      term.operator === 'Exists' || term.operator === 'DoesNotExist'
        ? `${term.operator === 'DoesNotExist' ? '!' : ''}${plain(term.key)}`
        : `${plain(term.key)} ${term.operator.toLowerCase()} (${values})`,
    );
  }
  return parts.length === 0 ? 'all' : parts.join(', ');
}

/** A cluster NetworkPolicy parsed once, on its way into a cache; undefined when its shape is invalid. */
export function parsedPolicy(object: KubeObject): NetworkPolicy | undefined {
  const parsed = parseNetworkPolicy(object);
  return parsed.ok ? parsed.policy : undefined;
}

/** The DNS-relevant neighbours: policies selecting the whole namespace that restrict egress. */
export function namespaceWideEgress(policies: readonly NetworkPolicy[]): NetworkPolicy[] {
  return policies.filter(
    (policy) => isEmptySelector(policy.podSelector) && policy.policyTypes.has('egress'),
  );
}
