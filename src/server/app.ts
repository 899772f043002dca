import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { SecureContextOptions } from 'node:tls';
import secureJson from 'secure-json-parse';
import { decodeReview } from '../admission/decode.ts';
import { encodeReview } from '../admission/encode.ts';
import { evaluate, objectName } from '../engine/evaluate.ts';
import type { AdmissionInput, EvaluationContext } from '../engine/types.ts';
import { mutate } from '../mutation/mutate.ts';
import { BODY_LIMIT, bodyBudgetFor, installBodyBudget, type BodyBudgetOptions } from './body-budget.ts';
import { installDrain } from './drain.ts';
import { TLS_CIPHERS } from './tls.ts';

export { BODY_LIMIT } from './body-budget.ts';

export { TLS_CIPHERS } from './tls.ts';

/** One admission decision, as the audit log and the metrics see it. */
export interface DecisionRecord {
  readonly webhook: 'validate' | 'mutate';
  readonly input: AdmissionInput;
  readonly allowed: boolean;
  readonly environment: string | undefined;
  readonly mode: string | undefined;
  readonly findings: readonly { readonly rule: string; readonly level: string }[];
  readonly seconds: number;
}

export interface AppDeps {
  readonly logger: Logger;
  readonly tls: SecureContextOptions;
  /** A fresh context per review: current policy, caches and clock. */
  context(): EvaluationContext;
  /** Unmet readiness conditions; empty when ready. */
  notReady(): string[];
  /** Called once per decision, after the audit line (metrics). */
  onDecision?(record: DecisionRecord): void;
  readonly bodyLimit?: number;
  /** Bytes of review bodies in flight at once, and what happens past them (default: sized from the heap). */
  readonly memory?: Partial<Omit<BodyBudgetOptions, 'bodyLimit'>>;
  /** Slow clients are cut off: a connection idle this long, or a request not complete in time (ms). */
  readonly timeouts?: { readonly connectionMs: number; readonly requestMs: number };
}

function auditLine(logger: Logger, record: DecisionRecord): void {
  const { input } = record;
  logger.info(
    {
      audit: true,
      webhook: record.webhook,
      uid: input.uid,
      user: input.user.username,
      kind: input.kind,
      namespace: input.namespace,
      name: objectName(input),
      operation: input.operation,
      dryRun: input.dryRun,
      environment: record.environment,
      mode: record.mode,
      verdict: record.allowed ? 'allowed' : 'denied',
      rules: record.findings.map((finding) => `${finding.rule}:${finding.level}`),
      us: Math.round(record.seconds * 1e6),
    },
    'admission decision',
  );
}

/** Builds the webhook app; it never listens (the CLI or a test does). */
export function buildApp(deps: AppDeps) {
  const bodyLimit = deps.bodyLimit ?? BODY_LIMIT;
  const app = Fastify({
    https: {
      ...deps.tls,
      minVersion: 'TLSv1.2',
      ciphers: TLS_CIPHERS,
      handshakeTimeout: deps.timeouts?.connectionMs ?? 30_000,
    },
    loggerInstance: deps.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    keepAliveTimeout: 72_000,
    // The API server gives a webhook at most 30 s; a client slower than that is not the API server.
    connectionTimeout: deps.timeouts?.connectionMs ?? 30_000,
    requestTimeout: deps.timeouts?.requestMs ?? 30_000,
    return503OnClosing: false,
  });

  const budget = installBodyBudget(app, { maxBytes: bodyBudgetFor(undefined, bodyLimit), ...deps.memory, bodyLimit });

  // Fastify's own parser answers "not valid JSON" to a `__proto__` key; say what is really wrong.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, secureJson.parse(body, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const message = /forbidden (prototype|constructor)/.test(reason) ? `body rejected: ${reason}` : `body is not valid JSON: ${reason}`;
      done(Object.assign(new Error(message), { statusCode: 400 }), undefined);
    }
  });

  const record = (webhook: DecisionRecord['webhook'], started: bigint, rest: Omit<DecisionRecord, 'webhook' | 'seconds'>): void => {
    const full = { ...rest, webhook, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
    auditLine(deps.logger, full);
    deps.onDecision?.(full);
  };

  app.post('/validate', async (request, reply) => {
    const started = process.hrtime.bigint();
    const decoded = decodeReview(request.body);
    if (!decoded.ok) return reply.code(400).send({ error: 'invalid AdmissionReview', problems: decoded.problems });
    const { input } = decoded;
    if (decoded.subResource !== undefined) return encodeReview(input.uid, { allowed: true });
    const decision = evaluate(input, deps.context());
    record('validate', started, { input, ...decision });
    return encodeReview(input.uid, decision);
  });

  app.post('/mutate', async (request, reply) => {
    const started = process.hrtime.bigint();
    const decoded = decodeReview(request.body);
    if (!decoded.ok) return reply.code(400).send({ error: 'invalid AdmissionReview', problems: decoded.problems });
    const { input } = decoded;
    if (decoded.subResource !== undefined) return encodeReview(input.uid, { allowed: true });
    const mutation = mutate(input, deps.context());
    record('mutate', started, { input, allowed: true, environment: undefined, mode: undefined, findings: [] });
    return encodeReview(input.uid, { allowed: true, ...mutation });
  });

  // Draining after SIGTERM: open connections keep being answered, each closed after its reply.
  const drain = installDrain(app);

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const waiting = deps.notReady();
    if (waiting.length > 0) return reply.code(503).send({ status: 'not ready', waiting });
    return { status: 'ready' };
  });

  // One place turns every failure into a JSON reply; the process never crashes on input.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'internal error while answering a review');
    else request.log.debug({ err: error }, 'rejected request');
    return reply.code(status).send({ error: status === 500 ? 'internal error' : error.message, code: error.code });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url}` }));
  return Object.assign(app, { budget, drain });
}
