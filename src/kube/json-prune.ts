/**
 * Copies one JSON value's text without the object members a predicate drops, before it is parsed:
 * a Job's 400 KB last-applied annotation or its env then never becomes a string on the heap at
 * all. The predicate sees each member's path (keys, and `*` for an array element); members it
 * keeps are copied byte for byte. The input is a list item the API server sent; the copy is then
 * parsed with JSON.parse, which still rejects anything malformed.
 */
import {
  BACKSLASH,
  CLOSE_ARRAY,
  CLOSE_OBJECT,
  COLON,
  COMMA,
  isSpace,
  OPEN_ARRAY,
  OPEN_OBJECT,
  QUOTE,
} from '../json-bytes.ts';

export type DroppedPath = (path: readonly string[]) => boolean;

/** One scratch buffer for every copy: the function is synchronous, and the copy is never larger. */
let scratch = Buffer.allocUnsafe(0);

/** Where the string that opens at `at` (a quote) ends: the index after its closing quote. */
function stringEnd(bytes: Buffer, at: number, end: number): number {
  let i = at + 1;
  while (i < end) {
    const quote = bytes.indexOf(QUOTE, i);
    if (quote === -1 || quote >= end) return end;
    let backslashes = 0;
    for (let j = quote - 1; j > at && bytes[j] === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
  return end;
}

/** Where the value that starts at `at` (no leading space) ends. */
function valueEnd(bytes: Buffer, at: number, end: number): number {
  let depth = 0;
  let i = at;
  while (i < end) {
    const byte = bytes[i] as number;
    if (byte === QUOTE) {
      i = stringEnd(bytes, i, end);
      if (depth === 0) return i;
      continue;
    }
    if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth++;
    else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      // At depth 0 the bracket closes the container around a number or literal.
      if (depth === 0) return i;
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && (byte === COMMA || isSpace(byte))) return i;
    i++;
  }
  return end;
}

interface Frame {
  readonly array: boolean;
  written: number;
}

/** The text of `bytes[start, end)` (one JSON value) without the members `dropped` names. */
export function pruneJson(bytes: Buffer, start: number, end: number, dropped: DroppedPath): string {
  if (scratch.length < end - start) scratch = Buffer.allocUnsafe(Math.max(end - start, 65_536));
  const out = scratch;
  let length = 0;
  const put = (byte: number): void => {
    out[length++] = byte;
  };
  const copy = (from: number, to: number): void => {
    bytes.copy(out, length, from, to);
    length += to - from;
  };
  const frames: Frame[] = [];
  const path: string[] = [];
  let i = start;
  const skipSpace = (): void => {
    while (i < end && isSpace(bytes[i] as number)) i++;
  };
  /** After a value: the next member or element, or the end of its container (and of theirs). */
  const afterValue = (): boolean => {
    for (;;) {
      const frame = frames.at(-1);
      if (frame === undefined) return false;
      if (!frame.array) path.pop();
      skipSpace();
      if (bytes[i] === COMMA) {
        i++;
        return true;
      }
      // A closing bracket: this container ends, and with it the value it was.
      put(bytes[i] as number);
      i++;
      frames.pop();
      if (frame.array) path.pop();
    }
  };

  for (;;) {
    // Where a member or element starts, or the first value.
    const frame = frames.at(-1);
    skipSpace();
    if (frame !== undefined && !frame.array) {
      if (bytes[i] === CLOSE_OBJECT) {
        put(CLOSE_OBJECT);
        i++;
        frames.pop();
        if (!afterValue()) break;
        continue;
      }
      const keyStart = i;
      const keyEnd = stringEnd(bytes, i, end);
      const raw = bytes.toString('utf8', keyStart + 1, keyEnd - 1);
      const key = raw.includes('\\') ? String(JSON.parse(`"${raw}"`)) : raw;
      i = keyEnd;
      skipSpace();
      i++; // the colon
      skipSpace();
      path.push(key);
      if (dropped(path)) {
        i = valueEnd(bytes, i, end);
        if (!afterValue()) break;
        continue;
      }
      if (frame.written++ > 0) put(COMMA);
      copy(keyStart, keyEnd);
      put(COLON);
    } else if (frame !== undefined) {
      if (bytes[i] === CLOSE_ARRAY) {
        put(CLOSE_ARRAY);
        i++;
        frames.pop();
        path.pop();
        if (!afterValue()) break;
        continue;
      }
      if (frame.written++ > 0) put(COMMA);
    }
    // A value: a container opens a frame; anything else is copied whole.
    const byte = bytes[i] as number;
    if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      put(byte);
      i++;
      frames.push({ array: byte === OPEN_ARRAY, written: 0 });
      if (byte === OPEN_ARRAY) path.push('*');
      continue;
    }
    const valueStop = valueEnd(bytes, i, end);
    copy(i, valueStop);
    i = valueStop;
    if (!afterValue()) break;
  }
  return out.toString('utf8', 0, length);
}
