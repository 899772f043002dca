import type { Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import { getHeapStatistics } from 'node:v8';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';

const MiB = 1024 * 1024;
type RawRequest<S extends RawServerBase> = RawRequestDefaultExpression<S>;
type RawReply<S extends RawServerBase> = RawReplyDefaultExpression<S>;

/**
 * The largest review body accepted. The API server caps a request body at 3 MiB, so `object`
 * is at most that; `oldObject` comes from etcd (1.5 MiB per object by default) and is re-encoded
 * as JSON, which we allow the same 3 MiB; half a MiB more covers the envelope (userInfo, kind,
 * options). Larger bodies get 413 before a byte of them is read.
 */
export const BODY_LIMIT = 6.5 * MiB;

/**
 * A body must arrive within this long of its request's first byte, else the connection is
 * dropped: the smallest `timeoutSeconds` of deploy/'s webhook configurations (10 s). The API
 * server has given up on a slower review anyway (test/deploy holds the two together).
 */
export const BODY_DEADLINE_MS = 10_000;

/**
 * Bytes of review bodies held at once: received, or parsed and judged and not yet answered.
 * Raw bodies live outside the V8 heap (Buffers), so this is sized from the container, not the
 * heap: the Deployment's 512Mi limit minus the old space (256 MiB), the young generation (3 x 16
 * MiB semi-spaces) and ~100 MiB of code, TLS and native buffers leaves ~110 MiB; bodies get 48.
 * Six largest bodies (39 MiB) fit at once.
 */
export const BODY_BYTES_BUDGET = 48 * MiB;

/**
 * A body never waits for the budget while it is this small: ordinary reviews (5-50 KiB) are
 * never held up by large ones. Only the bytes of a body past this size wait for room.
 */
export const SMALL_BODY = 64 * 1024;

/**
 * Heap bytes a body costs while it is parsed, per body byte, in the worst shape we measured:
 * `[{},{},...]` (each 3-byte `{}` becomes a JS object; 6.5 MiB of it peaked at 141 MB of heap, a
 * ratio of 21.7). Real objects cost less to parse (a NetworkPolicy: 4-13x); what a rule builds
 * from them is bounded by the review bounds (src/admission/bounds.ts), checked before any view.
 * Parsing and judging run without yielding, so one review at a time holds its parsed form.
 */
export const WORST_HEAP_PER_BODY_BYTE = 24;

/** Heap kept aside for all but the review being parsed: code, cluster caches, views, GC headroom. */
export const HEAP_RESERVE = 96 * MiB;

/**
 * The old-space limit: `--max-old-space-size` from the command line or NODE_OPTIONS (how the
 * Deployment sets it), else V8's whole heap limit. V8's heap_size_limit adds the young
 * generation (192 MB on Node 24) to the old space, which would overstate it.
 */
const nodeFlags = (): string[] => [
  ...process.execArgv,
  ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/),
];

export function oldSpaceLimit(argv: readonly string[] = nodeFlags()): number {
  const flags = argv
    .map((arg) => /^--max[-_]old[-_]space[-_]size=(\d+)$/.exec(arg)?.[1])
    .filter((mb) => mb !== undefined);
  const last = flags.at(-1);
  return last === undefined ? getHeapStatistics().heap_size_limit : Number(last) * MiB;
}

/** Does the heap hold one largest body at its worst beside the reserve? (`serve` warns when not.) */
export function heapFitsLargestBody(heapLimit: number = oldSpaceLimit(), bodyLimit = BODY_LIMIT) {
  return heapLimit >= HEAP_RESERVE + WORST_HEAP_PER_BODY_BYTE * bodyLimit;
}

export type BudgetRefusal = 'connection-limit';

export interface BodyBudgetOptions {
  /** Bytes of bodies held at most (BODY_BYTES_BUDGET); the first body always fits. */
  readonly maxBytes: number;
  /** Bodies above this are refused by Fastify (413); one connection holds at most this much. */
  readonly bodyLimit: number;
  readonly onRefused?: (reason: BudgetRefusal) => void;
}

export interface BodyBudget {
  readonly maxBytes: number;
  /** Bytes of review bodies received and not yet answered. */
  inFlight(): number;
  /** Bodies whose next bytes wait for room. */
  waiting(): number;
}

interface Waiter {
  readonly cost: number;
  readonly go: () => void;
}

/** What one request holds: the bytes it received, what it was admitted to grow to, its waiter. */
interface Holding {
  bytes: number;
  admitted: number;
  waiter: Waiter | undefined;
}

const tooMuchOnOneConnection = (bodyLimit: number): Error =>
  Object.assign(
    new Error(
      `one connection holds at most one body of ${(bodyLimit / MiB).toFixed(1)} MiB; send the next review after the reply`,
    ),
    { statusCode: 413 },
  );

/**
 * Counts review bodies against a byte budget as their bytes arrive, never by what a header
 * declares up front: a connection that declares a body and sends nothing holds nothing. A body
 * that grows past SMALL_BODY is admitted to grow to its declared length (the body limit when
 * chunked) only when that fits beside the bodies already admitted, so every admitted body can
 * finish and two half-received bodies never wait on each other; until then it waits, FIFO, and
 * its socket is not read (TCP slows the sender). Every body must arrive within the request
 * deadline (BODY_DEADLINE_MS), so nothing waits or holds longer. A request frees what it holds
 * when its reply is done or its connection ends. One connection holds at most `bodyLimit` bytes
 * at once, across pipelined requests.
 */
export function installBodyBudget<S extends RawServerBase, L extends FastifyBaseLogger>(
  app: FastifyInstance<S, RawRequest<S>, RawReply<S>, L>,
  options: BodyBudgetOptions,
): BodyBudget {
  const waiting: Waiter[] = [];
  const perSocket = new WeakMap<Socket, number>();
  let used = 0;
  let admitted = 0;

  const fits = (cost: number): boolean => admitted === 0 || admitted + cost <= options.maxBytes;
  const admitWaiting = (): void => {
    for (let next = waiting[0]; next !== undefined && fits(next.cost); next = waiting[0]) {
      waiting.shift();
      next.go();
    }
  };

  app.addHook('preParsing', (request, reply, payload, done) => {
    const socket = request.raw.socket as Socket | null;
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    // Over the limit: Fastify answers 413 on the header without reading a byte.
    if (declared > options.bodyLimit) return done(null, payload);
    const cost = Number.isSafeInteger(declared) && declared >= 0 ? declared : options.bodyLimit;
    const holding: Holding = { bytes: 0, admitted: 0, waiter: undefined };
    const take = (chunk: Buffer, next: TransformCallback): void => {
      used += chunk.length;
      holding.bytes += chunk.length;
      if (socket !== null) perSocket.set(socket, (perSocket.get(socket) ?? 0) + chunk.length);
      next(null, chunk);
    };
    reply.raw.once('close', () => {
      if (holding.waiter !== undefined) waiting.splice(waiting.indexOf(holding.waiter), 1);
      used -= holding.bytes;
      admitted -= holding.admitted;
      if (socket !== null) perSocket.set(socket, (perSocket.get(socket) ?? 0) - holding.bytes);
      holding.bytes = 0;
      holding.admitted = 0;
      admitWaiting();
    });
    const counted = new (class extends Transform {
      /** Fastify compares this with Content-Length and the body limit. */
      receivedEncodedLength = 0;
      override _transform(chunk: Buffer, _encoding: BufferEncoding, next: TransformCallback): void {
        this.receivedEncodedLength += chunk.length;
        const onSocket = socket === null ? 0 : (perSocket.get(socket) ?? 0);
        if (onSocket + chunk.length > options.bodyLimit) {
          options.onRefused?.('connection-limit');
          next(tooMuchOnOneConnection(options.bodyLimit));
          return;
        }
        if (holding.admitted > 0 || holding.bytes + chunk.length <= SMALL_BODY) {
          take(chunk, next);
          return;
        }
        const waiter: Waiter = {
          cost,
          go: () => {
            holding.waiter = undefined;
            holding.admitted = cost;
            admitted += cost;
            take(chunk, next);
          },
        };
        if (waiting.length === 0 && fits(cost)) {
          waiter.go();
          return;
        }
        holding.waiter = waiter;
        waiting.push(waiter);
      }
    })();
    payload.on('error', (err) => counted.destroy(err));
    payload.pipe(counted);
    done(null, counted);
  });

  return { maxBytes: options.maxBytes, inFlight: () => used, waiting: () => waiting.length };
}

/**
 * The budget's series on the metrics registry: refusals by reason, bytes in flight and the
 * budget itself. `onRefused` goes to installBodyBudget; `observe` once the budget exists.
 */
export interface BodyBudgetMetrics {
  onRefused(reason: BudgetRefusal): void;
  observe(budget: BodyBudget): void;
}

export function bodyBudgetMetrics(registry: Registry): BodyBudgetMetrics {
  let observed: BodyBudget | undefined;
  const refused = new Counter({
    name: 'netguard_review_bodies_refused_total',
    help: 'Review bodies refused (413): a connection sent more than one body limit before its replies.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'netguard_review_body_bytes_in_flight',
    help: 'Bytes of review bodies received and not yet answered.',
    registers: [registry],
    collect() {
      this.set(observed?.inFlight() ?? 0);
    },
  });
  new Gauge({
    name: 'netguard_review_bodies_waiting',
    help: 'Large review bodies whose next bytes wait for room in the budget.',
    registers: [registry],
    collect() {
      this.set(observed?.waiting() ?? 0);
    },
  });
  new Gauge({
    name: 'netguard_review_body_budget_bytes',
    help: 'Bytes of review bodies held at once at most (received and not yet answered).',
    registers: [registry],
    collect() {
      this.set(observed?.maxBytes ?? 0);
    },
  });
  return {
    onRefused: (reason) => refused.inc({ reason }),
    observe(budget) {
      observed = budget;
    },
  };
}
