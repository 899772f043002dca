import Fastify, { type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { SecureContextOptions } from 'node:tls';
import { boundedReview, boundMessage } from '../admission/bounds.ts';
import { rawObjectBound } from '../admission/raw-bounds.ts';
import { decodeReview } from '../admission/decode.ts';
import { encodeReview } from '../admission/encode.ts';
import { validate, objectName } from '../engine/evaluate.ts';
import { isSubresource } from '../engine/skips.ts';
import type { AdmissionInput, EvaluationContext } from '../engine/types.ts';
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

/** One admission decision, as the audit log and the metrics see it. */
export interface DecisionRecord {
  readonly webhook: 'validate' | 'mutate';
  readonly input: AdmissionInput;
  readonly allowed: boolean;
  readonly environment: string | undefined;
  readonly mode: string | undefined;
  readonly findings: readonly {
    readonly rule: string;
    readonly level: string;
    readonly waivedBy?: { readonly namespace: string; readonly name: string };
  }[];
  /** /mutate: the reply carries a JSON Patch or warnings. */
  readonly changed?: boolean;
  readonly seconds: number;
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

function audited(level: AuditLog, record: DecisionRecord): boolean {
  switch (level) {
    case 'all':
      return true;
    case 'findings':
      return !record.allowed || record.findings.length > 0 || record.changed === true;
    case 'denied':
      return !record.allowed;
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
  const { input } = record;
  audit.info(
    {
      webhook: record.webhook,
      uid: input.uid,
      user: input.user.username,
      kind: input.kind,
      namespace: input.namespace,
      // Not `name`: pino's base already has name=netguard, and a duplicate key breaks Elasticsearch.
      object: objectName(input),
      operation: input.operation,
      dryRun: input.dryRun,
      environment: record.environment,
      mode: record.mode,
      verdict: record.allowed ? 'allowed' : 'denied',
      rules: record.findings.map((finding) => `${finding.rule}:${finding.level}`),
      changed: record.changed,
      waivedBy: record.findings.flatMap((finding) =>
        finding.waivedBy === undefined
          ? []
          : [`${finding.rule}:${finding.waivedBy.namespace}/${finding.waivedBy.name}`],
      ),
      us: Math.round(record.seconds * 1e6),
    },
    'admission decision',
  );
}

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
  const record = (
    webhook: DecisionRecord['webhook'],
    started: bigint,
    rest: Omit<DecisionRecord, 'webhook' | 'seconds'>,
  ): void => {
    const full = { ...rest, webhook, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
    if (audited(auditLog, full)) auditLine(audit, full);
    deps.onDecision?.(full);
  };

  // A review past the bounds: an AdmissionReview denial naming the bound, judged by no rule.
  const refuseUnbounded = (
    webhook: DecisionRecord['webhook'],
    started: bigint,
    input: AdmissionInput,
    message: string,
  ) => {
    record(webhook, started, {
      input,
      allowed: false,
      environment: undefined,
      mode: undefined,
      findings: [],
    });
    return encodeReview(input.uid, { allowed: false, message });
  };

  /**
   * A review up to the point the engine takes it: parsed (a large body through the heap gate),
   * decoded, and within the bounds; or the reply it gets instead. A large body whose object
   * passes a bound is found in its raw bytes and answered from its envelope, never parsed whole.
   */
  const admitted = async (
    webhook: DecisionRecord['webhook'],
    started: bigint,
    request: { body: unknown },
    reply: FastifyReply,
  ): Promise<{ input: AdmissionInput } | { answer: unknown }> => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const early = raw.length > SMALL_BODY ? rawObjectBound(raw) : undefined;
    const decoded = decodeReview(await gate.parse(early?.envelope ?? raw, reply.raw));
    if (!decoded.ok)
      return {
        answer: reply
          .code(400)
          .send({ error: 'invalid AdmissionReview', problems: decoded.problems }),
      };
    if (isSubresource(decoded.subResource))
      return { answer: encodeReview(decoded.input.uid, { allowed: true }) };
    const bounded =
      early === undefined
        ? boundedReview(decoded.input)
        : { ok: false as const, message: boundMessage(decoded.input.kind, early.exceeded) };
    if (!bounded.ok)
      return { answer: refuseUnbounded(webhook, started, decoded.input, bounded.message) };
    return { input: bounded.input };
  };

  app.post('/validate', async (request, reply) => {
    const started = process.hrtime.bigint();
    const review = await admitted('validate', started, request, reply);
    if ('answer' in review) return review.answer;
    const { input } = review;
    const decision = validate(input, deps.context());
    record('validate', started, { input, ...decision });
    return encodeReview(input.uid, decision);
  });

  app.post('/mutate', async (request, reply) => {
    const started = process.hrtime.bigint();
    const review = await admitted('mutate', started, request, reply);
    if ('answer' in review) return review.answer;
    const { input } = review;
    const mutation = mutate(input, deps.context());
    const changed = mutation.patch.length > 0 || mutation.warnings.length > 0;
    record('mutate', started, {
      input,
      allowed: true,
      environment: undefined,
      mode: undefined,
      findings: [],
      changed,
    });
    return encodeReview(input.uid, { allowed: true, ...mutation });
  });

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
    return reply
      .code(status)
      .send({ error: status === 500 ? 'internal error' : message, code: error.code });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url}` }),
  );
  return Object.assign(app, { budget, gate, drain });
}
