import { CliError } from '../errors.ts';
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterFlags } from './cluster-flags.ts';

export { clusterRequested, type ClusterFlags } from './cluster-flags.ts';

const reason = (err: unknown): string =>
  err instanceof Error
    ? 'code' in err && typeof err.code === 'string'
      ? err.code
      : (err.message.split('\n')[0] ?? '')
    : String(err);

/**
 * As kubectl resolves it: --kubeconfig, else in-cluster, else $KUBECONFIG or ~/.kube/config; then
 * --context. A kubeconfig that cannot be read or names no such context is a one-line error (exit 2).
 */
export function loadKubeConfig(flags: ClusterFlags): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (flags.kubeconfig !== undefined) kc.loadFromString(readFileSync(flags.kubeconfig, 'utf8'));
    else kc.loadFromDefault();
  } catch (err) {
    throw new CliError(`${flags.kubeconfig ?? 'kubeconfig'}: cannot load: ${reason(err)}`, {
      exitCode: 2,
    });
  }
  if (flags.context !== undefined) {
    if (kc.getContextObject(flags.context) === null) {
      const have = kc.getContexts().map((c) => c.name);
      throw new CliError(
        `--context: kubeconfig has no context "${flags.context}" (have: ${have.length === 0 ? 'none' : have.join(', ')})`,
        { exitCode: 2 },
      );
    }
    kc.setCurrentContext(flags.context);
  }
  if (kc.getCurrentCluster() === null)
    throw new CliError(
      `${flags.kubeconfig ?? 'kubeconfig'}: no current cluster (set current-context or pass --context)`,
      { exitCode: 2 },
    );
  return kc;
}

/** The pod's namespace: the downward API's POD_NAMESPACE, else the service account's, else netguard-system. */
export function ownNamespace(env: NodeJS.ProcessEnv = process.env): string {
  if (env['POD_NAMESPACE'] !== undefined && env['POD_NAMESPACE'] !== '')
    return env['POD_NAMESPACE'];
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
  } catch {
    return 'netguard-system';
  }
}
