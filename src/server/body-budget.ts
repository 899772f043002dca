import { getHeapStatistics } from 'node:v8';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
  RouteGenericInterface,
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
 * Heap bytes a body costs while it is parsed and judged, per body byte, in the worst shape we
 * measured: `[{},{},...]` (each 3-byte `{}` becomes a JS object). 6.5 MiB of it peaked at 141 MB
 * of heap above the idle process (ratio 21.7); plain strings cost ~2.5x. See docs/install.md.
 */
export const WORST_HEAP_PER_BODY_BYTE = 24;

/** Heap kept aside for all but bodies: the code, the cluster caches, replies, GC headroom. */
export const HEAP_RESERVE = 96 * MiB;

/**
 * The old-space limit bodies live in: `--max-old-space-size` from the command line or
 * NODE_OPTIONS (how the Deployment sets it), else V8's whole heap limit. V8's heap_size_limit
 * adds the young generation (192 MB on Node 24) to the old space, which would overstate it.
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

/**
 * Bytes of review bodies that may be received, parsed and judged at once: what is left of the
 * old space after the reserve, at the worst expansion. Never below one body of the largest size,
 * so every valid review can be answered (a heap too small for that is a sizing error: see
 * docs/install.md).
 */
export function bodyBudgetFor(heapLimit: number = oldSpaceLimit(), bodyLimit = BODY_LIMIT): number {
  return Math.max(bodyLimit, Math.floor((heapLimit - HEAP_RESERVE) / WORST_HEAP_PER_BODY_BYTE));
}

export type BudgetRefusal = 'queue-full' | 'queue-timeout';

export interface BodyBudgetOptions {
  /** Bytes of bodies in flight at most (see bodyBudgetFor). */
  readonly maxBytes: number;
  /** Bodies above this are refused by Fastify (413); they never reserve anything. */
  readonly bodyLimit: number;
  /** How long a review may wait for room before it is refused (ms). */
  readonly queueMs?: number;
  /** Reviews waiting at most; each holds a socket and up to a read buffer of its body. */
  readonly maxQueued?: number;
  readonly onRefused?: (reason: BudgetRefusal) => void;
}

export interface BodyBudget {
  readonly maxBytes: number;
  /** Bytes reserved by reviews being received, parsed or judged now. */
  inFlight(): number;
  queued(): number;
}

interface Waiter {
  readonly cost: number;
  readonly admit: () => void;
  readonly timer: NodeJS.Timeout;
}

const refusal = (maxBytes: number, why: string): { error: string } => {
  const budget = `memory budget ${(maxBytes / MiB).toFixed(1)} MiB of review bodies at once`;
  return { error: `review refused: ${why} (${budget})` };
};

/**
 * Holds the bytes of review bodies in flight under a budget. A POST reserves its declared
 * Content-Length (the body limit when it streams without one) before its body is read, and
 * frees it when its reply is done or its connection ends. Beyond the budget it waits in a short
 * FIFO queue (Node stops reading a socket whose request is not consumed); a full queue or a wait
 * past `queueMs` is 503, which the API server treats as a webhook failure (failurePolicy).
 */
export function installBodyBudget<S extends RawServerBase, L extends FastifyBaseLogger>(
  app: FastifyInstance<S, RawRequest<S>, RawReply<S>, L>,
  options: BodyBudgetOptions,
): BodyBudget {
  const queueMs = options.queueMs ?? 2_000;
  const maxQueued = options.maxQueued ?? 64;
  const waiting: Waiter[] = [];
  let used = 0;

  // `Connection: close`: the unread body goes with the connection, not read to be dropped.
  type Reply = FastifyReply<RouteGenericInterface, S, RawRequest<S>, RawReply<S>>;
  const refuse = (reply: Reply, why: string): void => {
    void reply
      .code(503)
      .header('retry-after', '1')
      .header('connection', 'close')
      .send(refusal(options.maxBytes, why));
  };
  const fits = (cost: number): boolean => used === 0 || used + cost <= options.maxBytes;
  const admitWaiting = (): void => {
    for (let next = waiting[0]; next !== undefined && fits(next.cost); next = waiting[0]) {
      waiting.shift();
      clearTimeout(next.timer);
      next.admit();
    }
  };

  app.addHook('onRequest', (request, reply, done) => {
    if (request.method !== 'POST') return done();
    const declared = Number(request.headers['content-length'] ?? Number.NaN);
    const cost = Number.isSafeInteger(declared) && declared >= 0 ? declared : options.bodyLimit;
    if (cost > options.bodyLimit) return done();
    const admit = (): void => {
      used += cost;
      reply.raw.once('close', () => {
        used -= cost;
        admitWaiting();
      });
      done();
    };
    if (waiting.length === 0 && fits(cost)) return admit();
    if (waiting.length >= maxQueued) {
      options.onRefused?.('queue-full');
      return refuse(reply, `${waiting.length} reviews already wait for memory`);
    }
    const waiter: Waiter = {
      cost,
      admit,
      timer: setTimeout(() => {
        waiting.splice(waiting.indexOf(waiter), 1);
        options.onRefused?.('queue-timeout');
        refuse(reply, `no room for ${cost} bytes within ${queueMs} ms`);
      }, queueMs),
    };
    waiting.push(waiter);
    // A client that gives up while waiting leaves the queue at once.
    reply.raw.once('close', () => {
      const index = waiting.indexOf(waiter);
      if (index < 0) return;
      waiting.splice(index, 1);
      clearTimeout(waiter.timer);
      admitWaiting();
    });
  });

  return { maxBytes: options.maxBytes, inFlight: () => used, queued: () => waiting.length };
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
    help: 'Reviews refused with 503: bytes of review bodies in flight were at the memory budget.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'netguard_review_body_bytes_in_flight',
    help: 'Bytes of review bodies being received, parsed or judged now.',
    registers: [registry],
    collect() {
      this.set(observed?.inFlight() ?? 0);
    },
  });
  new Gauge({
    name: 'netguard_review_body_budget_bytes',
    help: 'Bytes of review bodies allowed in flight at once (sized from the V8 heap limit).',
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
