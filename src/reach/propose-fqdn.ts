/**
 * The toFQDNs proposal: egress to destinations a capture names by DNS (Hubble
 * `destination_names`), as a CiliumNetworkPolicy, where Cilium runs. One `matchName` per observed
 * name, never a pattern; with it the DNS rule through which Cilium's DNS proxy learns what the
 * names resolve to.
 */
import type { Policy } from '../config/policy.ts';
import type { KubeObject } from '../vocabulary.ts';
import type { Protocol, Workload } from './model.ts';
import { listed, type RuleBacking } from './backing.ts';

/** One observed egress flow to an address reached by DNS names. */
export interface NamedEgress {
  readonly names: readonly string[];
  readonly port: number;
  readonly protocol: Protocol;
  readonly flows: number;
  readonly observed: string;
}

interface NamedRule {
  readonly names: string[];
  readonly ports: readonly { port: number; protocol: Protocol }[];
  flows: number;
  readonly observed: Set<string>;
}

const portKey = (p: { port: number; protocol: Protocol }): string => `${p.protocol}/${p.port}`;

/** Per name the ports, flows and addresses seen; then names with the same ports share one rule. */
function namedRules(entries: readonly NamedEgress[]): NamedRule[] {
  const byName = new Map<string, NamedEgress[]>();
  for (const entry of entries)
    for (const name of entry.names) {
      const seen = byName.get(name);
      if (seen === undefined) byName.set(name, [entry]);
      else seen.push(entry);
    }
  const rules = new Map<string, NamedRule>();
  for (const [name, seen] of [...byName.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const ports = [
      ...new Map(seen.map((e) => [portKey(e), { port: e.port, protocol: e.protocol }])).values(),
    ].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
    const key = ports.map(portKey).join(',');
    const rule = rules.get(key) ?? { names: [], ports, flows: 0, observed: new Set<string>() };
    rule.names.push(name);
    for (const e of seen) {
      rule.flows += e.flows;
      rule.observed.add(e.observed);
    }
    rules.set(key, rule);
  }
  return [...rules.values()];
}

/**
 * DNS to the cluster DNS pods through Cilium's DNS proxy (an L7 `dns` rule): the proxy learns the
 * addresses the names resolve to. Every lookup passes; only the listed names are reachable.
 */
function dnsRule(policy: Policy): KubeObject {
  const dns = policy.networkPolicies.dns;
  return {
    toEndpoints: [
      { matchLabels: { 'k8s:io.kubernetes.pod.namespace': dns.namespace, ...dns.podLabels } },
    ],
    toPorts: [
      {
        ports: [
          { port: '53', protocol: 'UDP' },
          { port: '53', protocol: 'TCP' },
        ],
        rules: { dns: [{ matchPattern: '*' }] },
      },
    ],
  };
}

export function fqdnPolicyFor(
  workload: Workload,
  entries: readonly NamedEgress[],
  selector: Record<string, string>,
  policy: Policy,
  backing: RuleBacking[],
): KubeObject {
  const name = `${workload.name.slice(0, 238)}-observed-fqdns`;
  const egress = namedRules(entries).map((rule) => {
    const observed = listed([...rule.observed].sort());
    backing.push({
      policy: `${workload.namespace}/${name}`,
      direction: 'egress',
      peer: `DNS names ${rule.names.join(', ')}`,
      ports: rule.ports.map(portKey).join(', '),
      flows: rule.flows,
      observed,
      opens: `admits every address these names resolve to while the policy holds, not only the observed ${observed.join(', ')}`,
    });
    return {
      toFQDNs: rule.names.map((matchName) => ({ matchName })),
      toPorts: [{ ports: rule.ports.map((p) => ({ port: String(p.port), protocol: p.protocol })) }],
    };
  });
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: {
      name,
      namespace: workload.namespace,
      annotations: {
        'netguard.dev/advised': `from observed flows of ${workload.workloadKind} ${workload.name} to destinations reached by DNS name; review before applying`,
      },
    },
    spec: { endpointSelector: { matchLabels: selector }, egress: [dnsRule(policy), ...egress] },
  };
}
