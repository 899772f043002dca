/**
 * Writes netguard's PolicyReports into the cluster: creates or replaces one report per namespace and
 * the ClusterPolicyReport, skips writes that would change nothing but timestamps, and deletes
 * netguard's reports in namespaces that no longer get one. Touches only reports named `netguard`
 * and labelled managed-by netguard.
 */
import { KubeApiError } from '../errors.ts';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { WHOLE, type KubeRest } from '../kube/rest.ts';
import { field, stringField } from '../object-access.ts';
import type { KubeObject } from '../vocabulary.ts';
import { MANAGED_BY, REPORT_NAME } from './policy-report.ts';

const GROUP = '/apis/wgpolicyk8s.io/v1alpha2';
const SELECTOR = `labelSelector=${encodeURIComponent(
  Object.entries(MANAGED_BY)
    .map(([k, v]) => `${k}=${v}`)
    .join(','),
)}`;

export interface WriteResult {
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly deleted: number;
  /** Reports that could not be written or deleted (each logged); the others were written anyway. */
  readonly failed: number;
}

/** Thrown when the cluster does not serve PolicyReports (no CRD): nothing to write to. */
export class ReportsUnavailable extends Error {
  override name = 'ReportsUnavailable';
}

const collectionOf = (report: KubeObject): string => {
  const namespace = stringField(report, 'metadata', 'namespace');
  return namespace === ''
    ? `${GROUP}/clusterpolicyreports`
    : `${GROUP}/namespaces/${namespace}/policyreports`;
};

const isOurs = (report: KubeObject): boolean =>
  stringField(report, 'metadata', 'name') === REPORT_NAME &&
  Object.entries(MANAGED_BY).every(
    ([key, value]) => field(report, 'metadata', 'labels', key) === value,
  );

/** What a report says, without the scan time every result carries. */
function content(report: KubeObject): unknown {
  const results = field(report, 'results');
  return {
    summary: field(report, 'summary') ?? null,
    scope: field(report, 'scope') ?? null,
    annotations: field(report, 'metadata', 'annotations') ?? null,
    results: Array.isArray(results)
      ? results.map((result: Record<string, unknown>) => ({ ...result, timestamp: null }))
      : [],
  };
}

async function existing(rest: KubeRest): Promise<KubeObject[]> {
  try {
    const [namespaced, cluster] = await Promise.all([
      rest.list(`${GROUP}/policyreports?${SELECTOR}`, WHOLE),
      rest.list(`${GROUP}/clusterpolicyreports?${SELECTOR}`, WHOLE),
    ]);
    // List items come without kind; the key below needs it.
    const typed = (kind: string, items: KubeObject[]): KubeObject[] =>
      items.map((item) => ({ ...item, kind }));
    return [
      ...typed('PolicyReport', namespaced.items),
      ...typed('ClusterPolicyReport', cluster.items),
    ].filter(isOurs);
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 404) {
      throw new ReportsUnavailable(
        'the cluster does not serve wgpolicyk8s.io/v1alpha2 PolicyReports (install the CRDs, e.g. with Policy Reporter or Kyverno)',
      );
    }
    throw err;
  }
}

async function put(
  rest: KubeRest,
  report: KubeObject,
  current: KubeObject | undefined,
): Promise<'created' | 'updated' | 'unchanged'> {
  const collection = collectionOf(report);
  if (current === undefined) {
    try {
      await rest.create(collection, report);
      return 'created';
    } catch (err) {
      // Created since we listed (another replica, a restart): replace it instead.
      if (!(err instanceof KubeApiError && err.code === 409)) throw err;
      return put(rest, report, await rest.get(`${collection}/${REPORT_NAME}`));
    }
  }
  if (isDeepStrictEqual(content(current), content(report))) return 'unchanged';
  const metadata = {
    ...(report['metadata'] as Record<string, unknown>),
    resourceVersion: stringField(current, 'metadata', 'resourceVersion'),
  };
  await rest.replace(`${collection}/${REPORT_NAME}`, { ...report, metadata });
  return 'updated';
}

export async function writePolicyReports(
  rest: KubeRest,
  reports: readonly KubeObject[],
  logger: Logger,
): Promise<WriteResult> {
  const before = await existing(rest);
  const key = (report: KubeObject): string =>
    `${stringField(report, 'kind')}/${stringField(report, 'metadata', 'namespace')}`;
  const previous = new Map(before.map((report) => [key(report), report]));
  const current = new Map(previous);
  const counts = { created: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0 };
  // One report that fails (too large, a webhook, a conflict) never stops the others.
  const failed = (err: unknown, report: KubeObject, action: string): void => {
    counts.failed += 1;
    logger.error(
      {
        err,
        kind: stringField(report, 'kind'),
        namespace: stringField(report, 'metadata', 'namespace'),
      },
      `cannot ${action} a policy report; the others are written`,
    );
  };
  for (const report of reports) {
    current.delete(key(report));
    try {
      const outcome = await put(
        rest,
        report,
        before.find((old) => key(old) === key(report)),
      );
      counts[outcome] += 1;
    } catch (err) {
      failed(err, report, 'write');
    }
  }
  // Left over: namespaces that are gone or now excluded.
  for (const stale of current.values()) {
    try {
      await rest.remove(`${collectionOf(stale)}/${REPORT_NAME}`);
      counts.deleted += 1;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.code === 404)) failed(err, stale, 'delete');
    }
  }
  logger.info(counts, 'policy reports written');
  return counts;
}
