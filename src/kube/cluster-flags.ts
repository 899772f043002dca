/** The cluster flags, read without loading the cluster client (an offline command asks them first). */
export interface ClusterFlags {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

/**
 * True when netguard should talk to a cluster: a kubeconfig or a context was named (a context
 * alone means the default kubeconfig, as with kubectl, never "no cluster"), or it runs in a pod.
 */
export function clusterRequested(
  flags: ClusterFlags,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return (
    flags.kubeconfig !== undefined ||
    flags.context !== undefined ||
    env['KUBERNETES_SERVICE_HOST'] !== undefined
  );
}
