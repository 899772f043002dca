import { UsageError } from '../errors.ts';
import { parseCidr } from '../cidr.ts';
import type { KubeObject } from '../vocabulary.ts';
import { describeLocation, readManifests } from '../manifests.ts';
import type { ReachGraph } from '../reach/graph.ts';
import { PolicyError } from '../reach/policy.ts';
import { buildGraph, type BuildOptions } from '../reach/world.ts';
import { canonicalAddress } from '../reach/flows.ts';
import type { Endpoint } from '../reach/model.ts';

export interface SourceFlags {
  readonly filename?: readonly string[] | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

/** Objects from `-f` manifests, else one list of the cluster (Namespaces, workloads, Pods, NetworkPolicies). */
export async function loadObjects(flags: SourceFlags, stdin: () => string): Promise<KubeObject[]> {
  if (flags.filename !== undefined && flags.filename.length > 0) {
    const { manifests, errors } = readManifests(flags.filename, stdin);
    if (errors.length > 0)
      throw new UsageError(
        errors.map((error) => `${describeLocation(error)}: ${error.problem}`).join('\n'),
      );
    return manifests.map((manifest) => manifest.object);
  }
  // Loaded only for a cluster: the client costs ~0.4 s at start-up that `-f` should not pay.
  const { collectCluster } = await import('../audit/collect.ts');
  const { loadKubeConfig } = await import('../kube/client.ts');
  const { kubeRest } = await import('../kube/rest.ts');
  const snapshot = await collectCluster(kubeRest(loadKubeConfig(flags)));
  return [
    ...snapshot.namespaces.map((ns) => ({ ...ns, kind: 'Namespace', apiVersion: 'v1' })),
    ...snapshot.objects,
  ];
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `NS/WORKLOAD` as the graph knows it, or an IP address: a known pod's IP is that pod's workload. */
export function resolveEndpoint(graph: ReachGraph, text: string, flag: string): Endpoint {
  const address = parseCidr(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
  if (address !== undefined && !text.includes('/'))
    return graph.workloadAt(address) ?? { kind: 'external', id: canonicalAddress(text), address };
  const [namespace, name, extra] = text.split('/');
  if (
    namespace === undefined ||
    name === undefined ||
    extra !== undefined ||
    !NAME.test(namespace) ||
    !NAME.test(name)
  ) {
    throw new UsageError(
      `${flag}: expected NAMESPACE/WORKLOAD (e.g. prod-shop/web) or an IP address, got "${text}"`,
    );
  }
  const workload = graph.workload(text);
  if (workload !== undefined) return workload;
  const known = graph.workloadsIn(namespace).map((w) => w.name);
  const hint =
    graph.namespace(namespace) === undefined
      ? `namespace ${namespace} is not in the input`
      : `known in ${namespace}: ${known.join(', ') || 'none'}`;
  throw new UsageError(
    `${flag}: no Deployment, StatefulSet, DaemonSet, Job or bare Pod "${text}" (${hint})`,
  );
}

/** The graph of the input; a NetworkPolicy the engine cannot read is a usage error naming its field. */
export function graphOf(objects: readonly KubeObject[], options: BuildOptions = {}): ReachGraph {
  try {
    return buildGraph(objects, options);
  } catch (err) {
    if (err instanceof PolicyError) throw new UsageError(err.message);
    throw err;
  }
}
