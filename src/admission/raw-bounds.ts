import {
  QUOTE,
  BACKSLASH,
  COLON,
  COMMA,
  OPEN_OBJECT,
  CLOSE_OBJECT,
  OPEN_ARRAY,
  CLOSE_ARRAY,
  isSpace,
} from '../json-bytes.ts';
import { REVIEW_BOUNDS, type Bounds, type Exceeded } from './bounds.ts';

/** A value of `request` in the raw body: its bytes, JSON values and deepest container nesting. */
interface Region {
  start: number;
  end: number;
  values: number;
  depth: number;
}

/** A key's text: raw when it has no escape, else decoded (a hostile sender may escape `object`). */
function keyText(body: Buffer, start: number, end: number): string {
  const raw = body.toString('utf8', start, end);
  if (!raw.includes('\\')) return raw;
  try {
    return String(JSON.parse(`"${raw}"`));
  } catch {
    return raw;
  }
}

/**
 * Where `request.object` lies in a raw AdmissionReview body, with its count of JSON values and
 * nesting, found in one pass over the bytes without parsing (values = 1 + commas + non-empty
 * containers inside it, exactly what exceededBound counts). Undefined when the body has no
 * such object value or is not JSON of that shape: the parsed path then decides. With `bounds`,
 * it stops at the first byte that passes one, so the work is bounded by the bound, not the body.
 */
export function objectRegion(body: Buffer, bounds?: Bounds): Region | undefined {
  let depth = 0;
  let inString = false;
  let stringStart = 0;
  let expectKey = false;
  let lastKey = '';
  let topKey = '';
  let requestKey = '';
  let justOpened = false;
  let region: Region | undefined;
  let found: Region | undefined;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i] ?? 0;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) {
        inString = false;
        if (expectKey && depth <= 2) lastKey = keyText(body, stringStart, i);
      }
      continue;
    }
    if (isSpace(byte)) continue;
    if (justOpened) {
      justOpened = false;
      if (region !== undefined && byte !== CLOSE_OBJECT && byte !== CLOSE_ARRAY) region.values++;
      if (region !== undefined && region.values > (bounds?.values ?? Infinity)) return region;
    }
    switch (byte) {
      case QUOTE:
        inString = true;
        stringStart = i + 1;
        break;
      case COLON:
        expectKey = false;
        if (depth === 1) topKey = lastKey;
        if (depth === 2) {
          requestKey = lastKey;
          if (topKey === 'request' && requestKey === 'object')
            region = { start: -1, end: -1, values: 1, depth: 0 };
        }
        break;
      case COMMA:
        if (region !== undefined && depth > 2 && ++region.values > (bounds?.values ?? Infinity))
          return region;
        expectKey = depth <= 2;
        if (depth === 2 && region !== undefined) region = undefined; // a scalar object value
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (region !== undefined && depth === 2) region.start = i;
        depth++;
        expectKey = byte === OPEN_OBJECT;
        justOpened = true;
        if (region !== undefined) {
          region.depth = Math.max(region.depth, depth - 2);
          if (region.depth > (bounds?.depth ?? Infinity)) return region;
        }
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        depth--;
        if (depth < 0) return undefined;
        if (region !== undefined && depth === 2 && region.start >= 0) {
          region.end = i + 1;
          found = region;
          region = undefined;
        } else if (depth < 2) region = undefined;
        break;
      default:
        break;
    }
  }
  return depth === 0 && !inString ? found : undefined;
}

export interface RawBound {
  readonly exceeded: Exceeded;
  /** The body with `request.object` replaced by `{}`: its envelope (uid, kind, user), small to parse. */
  readonly envelope: Buffer;
}

/**
 * The bound a raw body's `request.object` passes, found before the body is parsed, with the
 * envelope to answer from; undefined when within the bounds (or not found: the parsed path,
 * which checks the same bounds, then decides).
 */
export function rawObjectBound(body: Buffer, bounds: Bounds = REVIEW_BOUNDS): RawBound | undefined {
  // With bounds, the scan stops as soon as the object passes one (end stays -1).
  const region = objectRegion(body, bounds);
  if (region === undefined || region.start < 0) return undefined;
  const exceeded: Exceeded | undefined =
    region.depth > bounds.depth
      ? { bound: 'depth', limit: bounds.depth }
      : region.values > bounds.values
        ? { bound: 'values', limit: bounds.values }
        : undefined;
  if (exceeded === undefined) return undefined;
  // The API server writes request's fields in a fixed order (uid, kind, ..., userInfo, object,
  // oldObject, dryRun, options): the bytes before the object hold all a reply and its audit line
  // need. The rest is not read: an empty object and oldObject close the envelope.
  const envelope = Buffer.concat([
    body.subarray(0, region.start),
    Buffer.from('{},"oldObject":{}}}'),
  ]);
  return { exceeded, envelope };
}
