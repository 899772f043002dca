import {
  BACKSLASH,
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COMMA,
  isSpace,
  OPEN_ARRAY,
  OPEN_OBJECT,
  QUOTE,
} from '../json-bytes.ts';
import { pruneJson, type DroppedPath } from './json-prune.ts';

/**
 * Reads a Kubernetes list reply as its bytes arrive. Each element of the top-level `items` array is
 * parsed on its own, as soon as its closing brace arrives, and handed to `onItem`; everything else
 * (kind, apiVersion, metadata with the continue token) is kept and parsed at the end. A page of
 * 250 objects of 1.2 MB each is then never held whole as bytes, as text and as objects at once:
 * memory follows the largest item, and what `onItem` keeps of each.
 */

/** The list's own fields (kind, metadata) are small; a reply whose are not is refused. */
const MAX_ENVELOPE_BYTES = 1024 * 1024;
/** etcd stores objects up to 1.5 MiB by default; an item far past that is not one the API sent. */
export const MAX_LIST_ITEM_BYTES = 16 * 1024 * 1024;

export class ListReplyError extends Error {}

export interface ListReader {
  write(chunk: Buffer): void;
  /** The list without its items (`items: []`), once the reply has ended. */
  end(): unknown;
}

/**
 * A reader that calls `onItem` with each parsed item of the reply's `items`, in order. Malformed
 * JSON, an item that is not an object, or a part past its bound throws ListReplyError.
 */
export function listReader(
  onItem: (item: Record<string, unknown>) => void,
  options: { readonly maxItemBytes?: number; readonly dropped?: DroppedPath | undefined } = {},
): ListReader {
  const { maxItemBytes = MAX_LIST_ITEM_BYTES, dropped } = options;
  const textOf = (bytes: Buffer, from: number, to: number): string =>
    dropped === undefined ? bytes.toString('utf8', from, to) : pruneJson(bytes, from, to, dropped);
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** Inside the top-level `items` array (depth ≥ 2 while there). */
  let inItems = false;
  /**
   * The item being read: its bytes from earlier chunks, copied into one buffer that is reused for
   * every item (a fresh 1.2 MB allocation per item would leave the allocator's arenas fragmented
   * and the process larger for good), and where it starts in this chunk.
   */
  let itemBuffer = Buffer.allocUnsafe(0);
  let itemBytes = 0;
  let itemStart = -1;
  let envelope = Buffer.alloc(4096);
  let envelopeLength = 0;

  const keep = (chunk: Buffer, from: number, to: number): void => {
    const length = to - from;
    if (length <= 0) return;
    if (envelopeLength + length > MAX_ENVELOPE_BYTES)
      throw new ListReplyError(
        `list reply: its fields outside items pass ${MAX_ENVELOPE_BYTES} bytes`,
      );
    if (envelopeLength + length > envelope.length) {
      const grown = Buffer.alloc(Math.max(envelope.length * 2, envelopeLength + length));
      envelope.copy(grown, 0, 0, envelopeLength);
      envelope = grown;
    }
    chunk.copy(envelope, envelopeLength, from, to);
    envelopeLength += length;
  };

  /** Whether the envelope kept so far ends in `"items":` (so the `[` after it opens the items). */
  const atItemsKey = (): boolean =>
    /"items"\s*:\s*$/.test(
      envelope.toString('utf8', Math.max(0, envelopeLength - 64), envelopeLength),
    );

  const append = (chunk: Buffer, from: number, to: number): void => {
    const length = to - from;
    if (itemBytes + length > maxItemBytes)
      throw new ListReplyError(`list reply: an item passes ${maxItemBytes} bytes`);
    if (itemBytes + length > itemBuffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(itemBuffer.length * 2, itemBytes + length, 65_536));
      itemBuffer.copy(grown, 0, 0, itemBytes);
      itemBuffer = grown;
    }
    chunk.copy(itemBuffer, itemBytes, from, to);
    itemBytes += length;
  };

  const finishItem = (chunk: Buffer, end: number): void => {
    let item: unknown;
    try {
      if (itemBytes === 0) {
        if (end - itemStart > maxItemBytes)
          throw new ListReplyError(`list reply: an item passes ${maxItemBytes} bytes`);
        item = JSON.parse(textOf(chunk, itemStart, end));
      } else {
        append(chunk, itemStart, end);
        item = JSON.parse(textOf(itemBuffer, 0, itemBytes));
      }
    } catch (err) {
      if (err instanceof ListReplyError) throw err;
      throw new ListReplyError(`list reply: an item is not valid JSON (${(err as Error).message})`);
    } finally {
      itemBytes = 0;
      itemStart = -1;
    }
    onItem(item as Record<string, unknown>);
  };

  return {
    write(chunk) {
      // Where the envelope's bytes of this chunk start (-1 while inside the items array).
      let keptFrom = inItems ? -1 : 0;
      let i = 0;
      // Positions of the next quote and backslash, found once and reused: long strings are skipped
      // with indexOf instead of byte by byte.
      let nextQuote = -2;
      let nextBackslash = -2;
      while (i < chunk.length) {
        if (inString) {
          if (escaped) {
            escaped = false;
            i++;
            continue;
          }
          if (nextQuote !== -1 && nextQuote < i) nextQuote = chunk.indexOf(QUOTE, i);
          if (nextBackslash !== -1 && nextBackslash < i)
            nextBackslash = chunk.indexOf(BACKSLASH, i);
          const stop =
            nextQuote === -1
              ? nextBackslash
              : nextBackslash === -1
                ? nextQuote
                : Math.min(nextQuote, nextBackslash);
          if (stop === -1) {
            i = chunk.length;
            break;
          }
          if (chunk[stop] === BACKSLASH) escaped = true;
          else inString = false;
          i = stop + 1;
          continue;
        }
        const byte = chunk[i] as number;
        if (byte === QUOTE) {
          if (inItems && depth === 2)
            throw new ListReplyError('list reply: an item is not an object');
          inString = true;
        } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
          if (inItems && depth === 2) {
            if (byte !== OPEN_OBJECT)
              throw new ListReplyError('list reply: an item is not an object');
            itemStart = i;
          } else if (!inItems && depth === 1 && byte === OPEN_ARRAY) {
            keep(chunk, keptFrom, i);
            keptFrom = i;
            if (atItemsKey()) {
              keep(chunk, i, i + 1);
              keptFrom = -1;
              inItems = true;
            }
          }
          depth++;
        } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
          depth--;
          if (depth < 0) throw new ListReplyError('list reply: unbalanced brackets');
          if (inItems && depth === 2 && byte === CLOSE_OBJECT) finishItem(chunk, i + 1);
          else if (inItems && depth === 1) {
            inItems = false;
            keptFrom = i;
          }
        } else if (inItems && depth === 2 && byte !== COMMA && !isSpace(byte))
          throw new ListReplyError('list reply: an item is not an object');
        i++;
      }
      if (keptFrom >= 0) keep(chunk, keptFrom, chunk.length);
      if (itemStart >= 0) {
        append(chunk, itemStart, chunk.length);
        itemStart = 0;
      }
    },
    end() {
      if (depth !== 0 || inString || itemBytes > 0)
        throw new ListReplyError('list reply ended in the middle of the JSON');
      try {
        return JSON.parse(envelope.toString('utf8', 0, envelopeLength));
      } catch (err) {
        throw new ListReplyError(`list reply is not valid JSON (${(err as Error).message})`);
      }
    },
  };
}
