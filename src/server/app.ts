import Fastify, { type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { SecureContextOptions } from 'node:tls';
import { boundedReview, boundMessage } from '../admission/bounds.ts';
import { rawObjectBound } from '../admission/raw-bounds.ts';
import { decodeReview } from '../admission/decode.ts';
import { encodeReview } from '../admission/encode.ts';
import { refusedUnjudged, validate } from '../engine/evaluate.ts';
import { isSubresource } from '../engine/skips.ts';
import type { AdmissionInput, Decision, EntryPoint, EvaluationContext } from '../engine/types.ts';
import { mutate } from '../mutation/mutate.ts';
import {
  BODY_BYTES_BUDGET,
  BODY_DEADLINE_MS,
  BODY_LIMIT,
  installBodyBudget,
  SMALL_BODY,
  type BodyBudgetOptions,
} from './body-budget.ts';
import { installDrain } from './drain.ts';
import { parseGate } from './review-body.ts';
import { servingContextOptions } from './tls.ts';

export { BODY_LIMIT } from './body-budget.ts';

export { TLS_CIPHERS } from './tls.ts';

/**
 * The parts of a decision (engine/types.ts's Decision) the audit line and the metrics read. Typed
 * loosely on purpose: the metrics check every value against what netguard knows.
 */
export interface RecordedDecision {
  readonly allowed: boolean;
  readonly name: string;
  readonly environment: string | undefined;
  readonly mode: string | undefined;
  /** Why the rules did not judge the object (engine/skips.ts). */
  readonly skipped?: string | undefined;
  readonly findings: readonly {
    readonly rule: string;
    readonly level: string;
    readonly waivedBy?: { readonly namespace: string; readonly name: string };
  }[];
  readonly warnings?: readonly string[];
  /** /mutate: the JSON Patch of the reply. */
  readonly patch?: readonly unknown[];
}

/** One admission decision, as the audit log and the metrics see it: the request and what was decided. */
export interface DecisionRecord {
  readonly webhook: EntryPoint;
  /** The request as it arrived (uid, user, kind as written, operation, dryRun). */
  readonly input: AdmissionInput;
  readonly decision: RecordedDecision;
  readonly seconds: number;
}

/** /mutate: whether the reply carries a JSON Patch or warnings; undefined at /validate. */
function changedBy(decision: RecordedDecision): boolean | undefined {
  if (decision.patch === undefined) return undefined;
  return decision.patch.length > 0 || (decision.warnings?.length ?? 0) > 0;
}

/**
 * Which decisions get an audit line (`serve --audit-log`): every one; those with a finding, a
 * denial, a patch or a warning (the default: observe's promise that every finding is logged
 * holds, while clean admits, which the API server's own audit log records, cost nothing);
 * denials only; none. See docs/performance.md.
 */
export const AUDIT_LOG_LEVELS = ['all', 'findings', 'denied', 'none'] as const;
export type AuditLog = (typeof AUDIT_LOG_LEVELS)[number];
export const DEFAULT_AUDIT_LOG: AuditLog = 'findings';

function audited(level: AuditLog, decision: RecordedDecision): boolean {
  switch (level) {
    case 'all':
      return true;
    case 'findings':
      return !decision.allowed || decision.findings.length > 0 || changedBy(decision) === true;
    case 'denied':
      return !decision.allowed;
    case 'none':
      return false;
  }
}

export interface AppDeps {
  readonly logger: Logger;
  readonly tls: SecureContextOptions;
  /** A fresh context per review: current policy, caches and clock. */
  context(): EvaluationContext;
  /** Unmet readiness conditions; empty when ready. */
  notReady(): string[];
  /** What /readyz adds either way (where clusterCIDRs came from). */
  readyDetail?(): Record<string, string>;
  /** Called once per decision, after the audit line (metrics). */
  onDecision?(record: DecisionRecord): void;
  readonly bodyLimit?: number;
  /** Which decisions get an audit line; DEFAULT_AUDIT_LOG when absent. */
  readonly auditLog?: AuditLog;
  /** Heap for large reviews parsed and judged at once (default: old space minus HEAP_RESERVE). */
  readonly heapForLargeReviews?: number;
  /** Bytes of review bodies held at once (default BODY_BYTES_BUDGET), and refusals. */
  readonly memory?: Partial<Omit<BodyBudgetOptions, 'bodyLimit'>>;
  /**
   * Slow clients are cut off: a connection idle this long, or a request whose body has not
   * arrived in time (ms; default BODY_DEADLINE_MS, checked every `checkMs`, default 1 s).
   */
  readonly timeouts?: {
    readonly connectionMs: number;
    readonly requestMs: number;
    readonly checkMs?: number;
  };
}

/** One JSON line per audited decision, through a child logger whose `audit: true` is serialised once. */
function auditLine(audit: Logger, record: DecisionRecord): void {
  const { input, decision } = record;
  audit.info(
    {
      webhook: record.webhook,
      uid: input.uid,
      user: input.user.username,
      kind: input.kind,
      namespace: input.namespace,
      // Not `name`: pino's base already has name=netguard, and a duplicate key breaks Elasticsearch.
      object: decision.name,
      operation: input.operation,
      dryRun: input.dryRun,
      environment: decision.environment,
      mode: decision.mode,
      verdict: decision.allowed ? 'allowed' : 'denied',
      skipped: decision.skipped,
      rules: decision.findings.map((finding) => `${finding.rule}:${finding.level}`),
      changed: changedBy(decision),
      waivedBy: decision.findings.flatMap((finding) =>
        finding.waivedBy === undefined
          ? []
          : [`${finding.rule}:${finding.waivedBy.namespace}/${finding.waivedBy.name}`],
      ),
      us: Math.round(record.seconds * 1e6),
    },
    'admission decision',
  );
}

/** What each webhook decides with; both are pure and synchronous and return one decision. */
const JUDGES: Readonly<
  Record<EntryPoint, (input: AdmissionInput, ctx: EvaluationContext) => Decision>
> = {
  validate,
  mutate,
};

/** Builds the webhook app; it never listens (the CLI or a test does). */
export function buildApp(deps: AppDeps) {
  const bodyLimit = deps.bodyLimit ?? BODY_LIMIT;
  const requestMs = deps.timeouts?.requestMs ?? BODY_DEADLINE_MS;
  const app = Fastify({
    // The same versions and suites as every rotated context (servingContextOptions).
    https: {
      ...deps.tls,
      ...servingContextOptions(deps.tls),
      handshakeTimeout: deps.timeouts?.connectionMs ?? 30_000,
      // How often Node looks for requests past requestTimeout (its default, 30 s, would let a
      // stalled body live up to 40 s instead of 10). Node applies requestTimeout only when the
      // headers timeout is no longer than it, so both are set here, at construction.
      connectionsCheckingInterval: deps.timeouts?.checkMs ?? 1_000,
      requestTimeout: requestMs,
      headersTimeout: requestMs,
    },
    // No logger for Fastify itself: with one, every request gets a child logger and two response
    // listeners (~1 µs a review, issue 13) for request logs netguard turns off anyway. Reviews are
    // logged by the audit line, errors by the error handler below.
    logger: false,
    bodyLimit,
    // Above the API server's idle timeout (Go's IdleConnTimeout, 90 s): a server that closes an
    // idle connection first lets the API server write a review onto it; that POST fails with EOF,
    // is not retried, and under failurePolicy Fail refuses the user's write.
    keepAliveTimeout: 120_000,
    // The API server gives a webhook at most 30 s; a client slower than that is not the API server.
    connectionTimeout: deps.timeouts?.connectionMs ?? 30_000,
    // A body that has not arrived within the webhooks' timeoutSeconds is useless: drop it.
    requestTimeout: requestMs,
    return503OnClosing: false,
  });

  const budget = installBodyBudget(app, { maxBytes: BODY_BYTES_BUDGET, ...deps.memory, bodyLimit });

  // JSON only (anything else is 415, as the API server only sends JSON). The body stays bytes
  // until the route parses it through the gate, which bounds the heap of large reviews at once.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  const gate = parseGate(deps.heapForLargeReviews);

  const auditLog = deps.auditLog ?? DEFAULT_AUDIT_LOG;
  const audit = deps.logger.child({ audit: true });
  const record = (full: DecisionRecord): void => {
    if (audited(auditLog, full.decision)) auditLine(audit, full);
    deps.onDecision?.(full);
  };

  /**
   * A review up to the point the engine takes it: parsed (a large body through the heap gate),
   * decoded, and within the bounds (`refused` names the bound it passed); or the HTTP reply it
   * gets instead. A large body whose object passes a bound is found in its raw bytes and answered
   * from its envelope, never parsed whole.
   */
  const admitted = async (
    request: { body: unknown },
    reply: FastifyReply,
  ): Promise<{ input: AdmissionInput; refused?: string } | { answer: unknown }> => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const early = raw.length > SMALL_BODY ? rawObjectBound(raw) : undefined;
    const decoded = decodeReview(await gate.parse(early?.envelope ?? raw, reply.raw));
    if (!decoded.ok)
      return {
        answer: reply
          .code(400)
          .send({ error: 'invalid AdmissionReview', problems: decoded.problems }),
      };
    // The engine skips a subresource before reading its object, so it needs no bounds.
    if (isSubresource(decoded.input.subResource)) return { input: decoded.input };
    const bounded =
      early === undefined
        ? boundedReview(decoded.input)
        : { ok: false as const, message: boundMessage(decoded.input.kind, early.exceeded) };
    if (!bounded.ok) return { input: decoded.input, refused: bounded.message };
    return { input: bounded.input };
  };

  /**
   * The one pipeline both webhooks share: admit the body, decide (a refusal past the bounds, a
   * skip or the rules), record the decision (audit line, metrics), reply with it.
   */
  const webhook = (entry: EntryPoint) => {
    const judge = JUDGES[entry];
    return async (request: { body: unknown }, reply: FastifyReply) => {
      const started = process.hrtime.bigint();
      const review = await admitted(request, reply);
      if ('answer' in review) return review.answer;
      const { input } = review;
      const decision =
        review.refused === undefined
          ? judge(input, deps.context())
          : refusedUnjudged(input, review.refused);
      record({
        webhook: entry,
        input,
        decision,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
      });
      return encodeReview(input.uid, decision);
    };
  };
  app.post('/validate', webhook('validate'));
  app.post('/mutate', webhook('mutate'));

  // Draining after SIGTERM: open connections keep being answered, each closed after its reply.
  const drain = installDrain(app);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const waiting = deps.notReady();
    const detail = deps.readyDetail?.() ?? {};
    if (waiting.length > 0)
      return reply.code(503).send({ status: 'not ready', waiting, ...detail });
    return { status: 'ready', ...detail };
  });

  // One place turns every failure into a JSON reply; the process never crashes on input.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status =
      error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
        ? error.statusCode
        : 500;
    if (status === 500)
      deps.logger.error(
        { err: error, url: request.url },
        'internal error while answering a review',
      );
    else deps.logger.debug({ err: error, url: request.url }, 'rejected request');
    const message =
      error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? `Unsupported Media Type: ${String(request.headers['content-type'] ?? 'none').slice(0, 100)}; send application/json`
        : error.message;
    // A 4xx names what was wrong in `problems`, as an invalid AdmissionReview's reply does.
    return reply
      .code(status)
      .send(
        status === 500
          ? { error: 'internal error', code: error.code }
          : { error: message, problems: [message], code: error.code },
      );
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url}` }),
  );
  return Object.assign(app, { budget, gate, drain });
}
