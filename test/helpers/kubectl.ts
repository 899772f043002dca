import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/**
 * kubectl (with its built-in kustomize) renders deploy/ for the deploy and e2e tests. No registry
 * here offers a current kubectl, so it is a documented prerequisite, not a dependency: where it
 * is missing, those test files are skipped with this reason instead of failing obscurely.
 */
export const KUBECTL_MISSING: string | undefined = findKubectl();

function findKubectl(): string | undefined {
  if (process.env['NETGUARD_TEST_NO_KUBECTL'] !== undefined)
    return 'NETGUARD_TEST_NO_KUBECTL is set';
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'kubectl (with kustomize) is not on PATH: install it to render deploy/ (see CONTRIBUTING.md)';
  }
}

/** `kubectl kustomize DIR`, parsed into objects. */
export function kustomize(dir: string): unknown[] {
  const text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(text).map((doc) => doc.toJS() as unknown);
}

/** Ends a test file that needs kubectl, as skipped with the reason, when kubectl is missing. */
export function skipFileWithoutKubectl(t: { plan(n: number, comment?: string): void }): void {
  if (KUBECTL_MISSING === undefined) return;
  t.plan(0, `skipped: ${KUBECTL_MISSING}`);
  process.exit(0);
}
