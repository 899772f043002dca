import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { KubeApiError } from '../errors.ts';
import type { KubeObject } from '../vocabulary.ts';

/**
 * A small JSON client over the kubeconfig's TLS and credentials, or plain `http:` for a local
 * `kubectl proxy` (which adds the credentials itself; none are sent over plain HTTP). The generated client-node models
 * rename fields (`from` becomes `_from`) and turn times into Dates; the engine and the controller
 * want objects exactly as the API server sends them, so these calls stay raw JSON.
 */
export interface KubeRest {
  get(path: string): Promise<KubeObject>;
  /** One page of a list: `limit` items at most, and the token for the next page. */
  listPage(path: string, limit: number, continueToken: string | undefined): Promise<ListPage>;
  /** A whole list in one call, with the resourceVersion a watch starts from. */
  list(path: string): Promise<{ items: KubeObject[]; resourceVersion: string | undefined }>;
  create(path: string, body: KubeObject): Promise<KubeObject>;
  /** PUT: carries the body's metadata.resourceVersion, so a stale write gets 409 Conflict. */
  replace(path: string, body: KubeObject): Promise<KubeObject>;
  remove(path: string, body?: KubeObject): Promise<void>;
  /** PATCH as a JSON merge patch (RFC 7386); a metadata.resourceVersion in it makes it conditional. */
  mergePatch(path: string, patch: KubeObject): Promise<KubeObject>;
}

export interface ListPage {
  readonly items: KubeObject[];
  readonly continueToken: string | undefined;
}

const objectSchema = z.record(z.string(), z.unknown());
const listSchema = z.looseObject({
  metadata: z
    .looseObject({ continue: z.string().optional(), resourceVersion: z.string().optional() })
    .optional(),
  items: z.array(objectSchema).nullish(),
});
const statusSchema = z.looseObject({
  reason: z.string().optional(),
  message: z.string().optional(),
});

interface RawResponse {
  readonly code: number;
  readonly text: string;
}

function send(
  options: RequestOptions,
  body: string | undefined,
  plain: boolean,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = (plain ? httpRequest : httpsRequest)(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

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

  const call = async (
    method: string,
    path: string,
    body?: KubeObject,
    contentType = 'application/json',
  ): Promise<unknown> => {
    const url = new URL(path, base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
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
    const res = await send(options, payload, plain);
    const parsed = parseJson(res.text);
    if (res.code >= 200 && res.code < 300) return parsed;
    const status = statusSchema.safeParse(parsed);
    const reason = status.success ? (status.data.reason ?? '') : '';
    const message = status.success ? (status.data.message ?? res.text) : res.text;
    throw new KubeApiError(method, url.pathname, res.code, reason, message);
  };
  const object = async (method: string, path: string, body?: KubeObject): Promise<KubeObject> =>
    objectSchema.parse(await call(method, path, body));

  return {
    get: (path) => object('GET', path),
    async listPage(path, limit, continueToken) {
      const query = new URLSearchParams({ limit: String(limit) });
      if (continueToken !== undefined) query.set('continue', continueToken);
      const list = listSchema.parse(await call('GET', `${path}?${query.toString()}`));
      const next = list.metadata?.continue;
      return {
        items: list.items ?? [],
        continueToken: next === undefined || next === '' ? undefined : next,
      };
    },
    async list(path) {
      const list = listSchema.parse(await call('GET', path));
      return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion };
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
