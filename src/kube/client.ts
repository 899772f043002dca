import { KubeConfig } from '@kubernetes/client-node';

export interface ClusterFlags {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

/** True when netguard should talk to a cluster: a kubeconfig was named, or it runs in a pod. */
export function clusterRequested(flags: ClusterFlags, env: NodeJS.ProcessEnv = process.env): boolean {
  return flags.kubeconfig !== undefined || env['KUBERNETES_SERVICE_HOST'] !== undefined;
}

/** As kubectl resolves it: --kubeconfig, else in-cluster, else $KUBECONFIG or ~/.kube/config; then --context. */
export function loadKubeConfig(flags: ClusterFlags): KubeConfig {
  const kc = new KubeConfig();
  if (flags.kubeconfig !== undefined) kc.loadFromFile(flags.kubeconfig);
  else kc.loadFromDefault();
  if (flags.context !== undefined) {
    if (kc.getContextObject(flags.context) === null) {
      throw new Error(`kubeconfig has no context "${flags.context}" (have: ${kc.getContexts().map((c) => c.name).join(', ')})`);
    }
    kc.setCurrentContext(flags.context);
  }
  return kc;
}
