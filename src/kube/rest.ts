import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { KubeApiError } from '../errors.ts';
import type { KubeObject } from '../vocabulary.ts';
import type { DroppedPath } from './json-prune.ts';
import { ListReplyError, listReader } from './list-reader.ts';

/**
 * A small JSON client over the kubeconfig's TLS and credentials, or plain `http:` for a local
 * `kubectl proxy` (which adds the credentials itself; none are sent over plain HTTP). The generated client-node models
 * rename fields (`from` becomes `_from`) and turn times into Dates; the engine and the controller
 * want objects exactly as the API server sends them, so these calls stay raw JSON.
 */
export interface KubeRest {
  get(path: string): Promise<KubeObject>;
  /**
   * One page of a list: `limit` items at most, and the token for the next page. Items are read
   * one at a time as the reply arrives and passed through `shape` (what the caller keeps of each).
   */
  listPage(
    path: string,
    limit: number,
    continueToken: string | undefined,
    shape?: Shape,
  ): Promise<ListPage>;
  /** A whole list in one call, with the resourceVersion a watch starts from; items as listPage's. */
  list<T>(path: string, shape: Shape<T>): Promise<ListOf<T>>;
  create(path: string, body: KubeObject): Promise<KubeObject>;
  /** PUT: carries the body's metadata.resourceVersion, so a stale write gets 409 Conflict. */
  replace(path: string, body: KubeObject): Promise<KubeObject>;
  remove(path: string, body?: KubeObject): Promise<void>;
  /** PATCH as a JSON merge patch (RFC 7386); a metadata.resourceVersion in it makes it conditional. */
  mergePatch(path: string, patch: KubeObject): Promise<KubeObject>;
}

/** What a caller keeps of a listed object, applied as each arrives. */
/** A whole list's items, and the resourceVersion a watch starts from. */
export interface ListOf<T> {
  readonly items: T[];
  readonly resourceVersion: string | undefined;
}

export interface Shape<T = KubeObject> {
  /** What is kept of each parsed object. */
  readonly keep: (object: KubeObject) => T;
  /** Members left out of an item's text before it is parsed (never strings on the heap). */
  readonly dropped?: DroppedPath;
}

export interface ListPage {
  readonly items: KubeObject[];
  readonly continueToken: string | undefined;
}

const objectSchema = z.record(z.string(), z.unknown());
const listMetaSchema = z.looseObject({
  metadata: z
    .looseObject({ continue: z.string().optional(), resourceVersion: z.string().optional() })
    .optional(),
});
const statusSchema = z.looseObject({
  reason: z.string().optional(),
  message: z.string().optional(),
});

interface RawResponse {
  readonly code: number;
  readonly text: string;
}

/** Where a reply's bytes go as they arrive; `end` returns what the reply became. */
interface Sink<T> {
  write(chunk: Buffer): void;
  end(): T;
}

/** A reply that is not read as a list (errors, single objects) is at most this large. */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

function textSink(code: number): Sink<RawResponse> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  return {
    write(chunk) {
      bytes += chunk.length;
      if (bytes > MAX_REPLY_BYTES) throw new Error(`reply passes ${MAX_REPLY_BYTES} bytes`);
      chunks.push(chunk);
    },
    end: () => ({ code, text: Buffer.concat(chunks).toString('utf8') }),
  };
}

/** Sends one request; the reply's status code picks the sink its body streams into. */
function send<T>(
  options: RequestOptions,
  body: string | undefined,
  plain: boolean,
  sinkFor: (code: number) => Sink<T>,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = (plain ? httpRequest : httpsRequest)(options, (res) => {
      const sink = sinkFor(res.statusCode ?? 0);
      res.on('data', (chunk: Buffer) => {
        try {
          sink.write(chunk);
        } catch (err) {
          res.destroy();
          reject(err);
        }
      });
      res.on('end', () => {
        try {
          resolve(sink.end());
        } catch (err) {
          reject(err);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Every item kept as listed. */
export const WHOLE: Shape = { keep: (object) => object };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function kubeRest(kc: KubeConfig): KubeRest {
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) throw new Error('kubeconfig names no cluster server');
  const base = new URL(server);
  const plain = base.protocol === 'http:';
  if (!plain && base.protocol !== 'https:')
    throw new Error(`kubeconfig server ${server}: expected an https: or http: URL`);

  const requestOptions = async (
    method: string,
    url: URL,
    payload: string | undefined,
    contentType: string,
  ): Promise<RequestOptions> => {
    const options: RequestOptions = {
      method,
      hostname: url.hostname,
      port: url.port,
      path: `${base.pathname.replace(/\/$/, '')}${url.pathname}${url.search}`,
      // An explicit length: Node sends a DELETE body neither chunked nor sized otherwise.
      headers: {
        accept: 'application/json',
        'content-type': contentType,
        ...(payload === undefined ? {} : { 'content-length': Buffer.byteLength(payload) }),
      },
    };
    if (!plain) await kc.applyToHTTPSOptions(options);
    return options;
  };
  /** A failed call as the API server's Status words it. */
  const failure = (method: string, url: URL, res: RawResponse): KubeApiError => {
    const status = statusSchema.safeParse(parseJson(res.text));
    const reason = status.success ? (status.data.reason ?? '') : '';
    const message = status.success ? (status.data.message ?? res.text) : res.text;
    return new KubeApiError(method, url.pathname, res.code, reason, message);
  };
  const call = async (
    method: string,
    path: string,
    body?: KubeObject,
    contentType = 'application/json',
  ): Promise<unknown> => {
    const url = new URL(path, base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const options = await requestOptions(method, url, payload, contentType);
    const res = await send(options, payload, plain, textSink);
    if (res.code >= 200 && res.code < 300) return parseJson(res.text);
    throw failure(method, url, res);
  };
  const object = async (method: string, path: string, body?: KubeObject): Promise<KubeObject> =>
    objectSchema.parse(await call(method, path, body));
  /** A GET of a list, its items read one by one as they arrive and shaped (listReader). */
  const readList = async <T>(
    path: string,
    shape: Shape<T>,
  ): Promise<{ items: T[]; metadata: z.infer<typeof listMetaSchema>['metadata'] }> => {
    const url = new URL(path, base);
    const options = await requestOptions('GET', url, undefined, 'application/json');
    const items: T[] = [];
    const reply = await send(
      options,
      undefined,
      plain,
      (code): Sink<{ envelope: unknown } | { failed: RawResponse }> => {
        if (code < 200 || code >= 300) {
          const text = textSink(code);
          return { write: text.write, end: () => ({ failed: text.end() }) };
        }
        const reader = listReader((item) => items.push(shape.keep(item)), {
          dropped: shape.dropped,
        });
        return { write: reader.write, end: () => ({ envelope: reader.end() }) };
      },
    );
    if ('failed' in reply) throw failure('GET', url, reply.failed);
    const list = listMetaSchema.safeParse(reply.envelope);
    if (!list.success) throw new ListReplyError(`list reply from ${url.pathname} is not a list`);
    return { items, metadata: list.data.metadata };
  };

  return {
    get: (path) => object('GET', path),
    async listPage(path, limit, continueToken, shape = WHOLE) {
      const query = new URLSearchParams({ limit: String(limit) });
      if (continueToken !== undefined) query.set('continue', continueToken);
      const list = await readList(`${path}?${query.toString()}`, shape);
      const next = list.metadata?.continue;
      return {
        items: list.items,
        continueToken: next === undefined || next === '' ? undefined : next,
      };
    },
    async list(path, shape) {
      const listed = await readList(path, shape);
      return { items: listed.items, resourceVersion: listed.metadata?.resourceVersion };
    },
    create: (path, body) => object('POST', path, body),
    replace: (path, body) => object('PUT', path, body),
    async remove(path, body) {
      await call('DELETE', path, body);
    },
    mergePatch: async (path, patch) =>
      objectSchema.parse(await call('PATCH', path, patch, 'application/merge-patch+json')),
  };
}

/**
 * Every item of a collection, page by page (`limit`/`continue`); `onPage` reports progress.
 * A continue token that expired (410) starts the list again once, as kubectl does.
 */
export async function listAll(
  rest: KubeRest,
  path: string,
  options: { limit?: number; onPage?: (count: number) => void } = {},
): Promise<KubeObject[]> {
  for (let restart = 0; ; restart++) {
    const items: KubeObject[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await rest.listPage(path, options.limit ?? 500, token);
        items.push(...page.items);
        options.onPage?.(items.length);
        token = page.continueToken;
      } while (token !== undefined);
      return items;
    } catch (err) {
      if (
        !(err instanceof KubeApiError && err.code === 410 && token !== undefined && restart === 0)
      )
        throw err;
    }
  }
}
