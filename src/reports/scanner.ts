/**
 * Keeps netguard's PolicyReports current in the cluster: a background audit on a period, and soon
 * after the caches change (coalesced, so a burst of events is one scan). Only the leader writes.
 * The controller owns the caches; it calls `changed()` from their events.
 */
import type { Logger } from 'pino';
import { auditLiveCluster, type AuditWorld } from '../audit/live.ts';
import { policyReports } from './policy-report.ts';
import { ReportsUnavailable, writePolicyReports, type WriteResult } from './writer.ts';

export interface ReportScannerOptions {
  /** The paged listing and the world judging uses: the controller's own (its policy and waiver caches). */
  readonly world: AuditWorld;
  readonly logger: Logger;
  /** Writes happen only while this holds (the controller's lease). */
  readonly isLeader: () => boolean;
  /** Full rescan period (default 10 minutes: Kyverno's background scan runs hourly; reports here are cheap). */
  readonly periodMs?: number;
  /** Wait after a change before scanning, so a rollout's burst of events is one scan (default 30 s). */
  readonly settleMs?: number;
  readonly now?: () => Date;
  /** Told after every scan (tests wait on it). */
  readonly onScan?: (outcome: WriteResult | 'skipped' | 'unavailable' | 'failed') => void;
}

export interface ReportScanner {
  /** The cluster changed: scan after the settle time. */
  changed(): void;
  /** Scans and writes now (the period restarts). */
  scanNow(): Promise<WriteResult | 'skipped' | 'unavailable' | 'failed'>;
  stop(): void;
}

export function startReportScanner(options: ReportScannerOptions): ReportScanner {
  const logger = options.logger.child({ component: 'policy-reports' });
  const period = options.periodMs ?? 600_000;
  const settle = options.settleMs ?? 30_000;
  const now = options.now ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let dueAt = Number.POSITIVE_INFINITY;
  let running: Promise<WriteResult | 'skipped' | 'unavailable' | 'failed'> | undefined;
  let again = false;
  let stopped = false;
  let warnedUnavailable = false;

  const schedule = (ms: number): void => {
    if (stopped) return;
    clearTimeout(timer);
    dueAt = Date.now() + ms;
    timer = setTimeout(() => void scanNow(), ms);
    timer.unref();
  };

  const scan = async (): Promise<WriteResult | 'skipped' | 'unavailable' | 'failed'> => {
    if (!options.isLeader()) return 'skipped';
    try {
      const at = now();
      const { report, judged, namespaces } = await auditLiveCluster(options.world, {
        now: at,
      });
      const reports = policyReports({
        judged,
        namespaces: report.namespaces,
        namespaceObjects: namespaces,
        now: at,
      });
      // Leadership can be lost while listing; a former leader never writes.
      if (!options.isLeader()) return 'skipped';
      return await writePolicyReports(options.world.rest, reports, logger);
    } catch (err) {
      if (err instanceof ReportsUnavailable) {
        if (!warnedUnavailable) logger.warn({ err: err.message }, 'policy reports not written');
        warnedUnavailable = true;
        return 'unavailable';
      }
      logger.error({ err }, 'policy report scan failed; retrying at the next period');
      return 'failed';
    }
  };

  async function scanNow(): Promise<WriteResult | 'skipped' | 'unavailable' | 'failed'> {
    if (running !== undefined) {
      again = true;
      return running;
    }
    clearTimeout(timer);
    running = scan();
    const outcome = await running;
    running = undefined;
    options.onScan?.(outcome);
    if (again) {
      again = false;
      schedule(settle);
    } else schedule(period);
    return outcome;
  }

  schedule(settle);
  return {
    changed() {
      if (running !== undefined) again = true;
      // Never postpone a scan that is already due sooner.
      else if (dueAt - Date.now() > settle) schedule(settle);
    },
    scanNow,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * The controller with its PolicyReport scan: the one hook the controller needs (`onCacheChange`),
 * for every command that runs a controller (`controller`, `serve --controller`).
 */
export function withPolicyReports<C extends { isLeader(): boolean; stop(): Promise<void> }>(
  start: (onCacheChange: () => void) => C,
  options: Pick<ReportScannerOptions, 'world' | 'logger' | 'settleMs' | 'onScan'> & {
    readonly periodMs: number | undefined;
  },
): C {
  let scanner: ReportScanner | undefined;
  const controller = start(() => scanner?.changed());
  if (options.periodMs !== undefined) {
    scanner = startReportScanner({
      ...options,
      periodMs: options.periodMs,
      isLeader: () => controller.isLeader(),
    });
  }
  const stop = controller.stop.bind(controller);
  return Object.assign(controller, {
    stop: async () => {
      scanner?.stop();
      await stop();
    },
  });
}
