import { Agent, request as httpsRequest } from 'node:https';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  json(): any;
}

export interface HttpsClient {
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply>;
  get(path: string): Promise<Reply>;
  close(): void;
}

/** A keep-alive HTTPS client that trusts only `ca` (never rejectUnauthorized: false). */
export function httpsClient(port: number, ca: string, host = 'localhost'): HttpsClient {
  const agent = new Agent({ keepAlive: true, ca });
  const send = (
    method: string,
    path: string,
    payload?: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host,
          port,
          path,
          method,
          agent,
          headers:
            payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body,
              json: () => JSON.parse(body),
            });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return {
    post: (path, body, headers) =>
      send(
        'POST',
        path,
        typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
        headers,
      ),
    get: (path) => send('GET', path),
    close: () => agent.destroy(),
  };
}
