import { isUtf8 } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import secureJson from 'secure-json-parse';
import {
  HEAP_RESERVE,
  oldSpaceLimit,
  SMALL_BODY,
  WORST_HEAP_PER_BODY_BYTE,
} from './body-budget.ts';

const badRequest = (message: string): Error =>
  Object.assign(new Error(message), { statusCode: 400 });

/**
 * A review body as JSON. Fastify's own parser answers "not valid JSON" to a `__proto__` key and
 * decodes invalid UTF-8 into U+FFFD: say what is really wrong instead, and never judge an object
 * other than the one that was sent.
 */
export function parseReviewBody(body: Buffer): unknown {
  if (!isUtf8(body)) throw badRequest('body is not valid UTF-8');
  try {
    return secureJson.parse(body.toString('utf8'), undefined, {
      protoAction: 'error',
      constructorAction: 'error',
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw badRequest(
      /forbidden (prototype|constructor)/.test(reason)
        ? `body rejected: ${reason}`
        : `body is not valid JSON: ${reason}`,
    );
  }
}

export interface ParseGate {
  /** The parsed body; a large one waits until its worst-case heap fits beside the others. */
  parse(body: Buffer, reply: ServerResponse): unknown | Promise<unknown>;
  /** Estimated heap bytes of large reviews being parsed and judged now. */
  held(): number;
  /** Large reviews waiting for heap. */
  waiting(): number;
}

/**
 * Large reviews are parsed and judged only while their worst-case heap (WORST_HEAP_PER_BODY_BYTE
 * per body byte) fits in the old space beside the reserve; the first always may, so every review
 * is answered. What a review holds is freed when its reply is done. Small bodies (SMALL_BODY)
 * never wait: the reserve covers them. Parsing and judging do not yield, so without this gate
 * two large reviews answered in the same turn of the event loop would both be alive on the heap.
 */
export function parseGate(capacity: number = oldSpaceLimit() - HEAP_RESERVE): ParseGate {
  const queue: { readonly cost: number; readonly go: () => void }[] = [];
  let held = 0;
  const fits = (cost: number): boolean => held === 0 || held + cost <= capacity;
  const admit = (cost: number, reply: ServerResponse): void => {
    held += cost;
    reply.once('close', () => {
      held -= cost;
      for (let next = queue[0]; next !== undefined && fits(next.cost); next = queue[0]) {
        queue.shift();
        next.go();
      }
    });
  };
  return {
    parse(body, reply) {
      if (body.length <= SMALL_BODY) return parseReviewBody(body);
      const cost = body.length * WORST_HEAP_PER_BODY_BYTE;
      if (queue.length === 0 && fits(cost)) {
        admit(cost, reply);
        return parseReviewBody(body);
      }
      return new Promise((resolve, reject) => {
        const waiter = {
          cost,
          go: () => {
            admit(cost, reply);
            try {
              resolve(parseReviewBody(body));
            } catch (err) {
              reject(err);
            }
          },
        };
        queue.push(waiter);
        // A client that leaves while waiting leaves the queue.
        reply.once('close', () => {
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
        });
      });
    },
    held: () => held,
    waiting: () => queue.length,
  };
}
