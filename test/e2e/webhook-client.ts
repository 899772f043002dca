/**
 * The API server's HTTP client for webhooks, as far as netguard can tell the difference: one pooled
 * keep-alive HTTP/1.1 transport (client-go transport/cache.go: `MaxIdleConnsPerHost: 25`,
 * `TLSHandshakeTimeout: 10s`, dial timeout 30 s; apimachinery SetTransportDefaults:
 * `IdleConnTimeout: 90s` from Go's DefaultTransport). Like Go's http.Transport it ignores the
 * server's `Keep-Alive: timeout=N` hint, and it never retries a POST that fails on a reused
 * connection (a POST is not idempotent), so `EOF` or a reset reaches failurePolicy. The request
 * deadline is the webhook's timeoutSeconds (the dispatcher's context.WithTimeout).
 * Replies are read as client-go's rest.Request does: 200-206 are decoded, anything else becomes
 * apierrors.NewGenericServerResponse.
 */
import { Agent, request } from 'node:https';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export const IDLE_CONN_TIMEOUT_MS = 90_000;
export const MAX_IDLE_CONNS_PER_HOST = 25;
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface TransportTimeouts {
  /** Go's IdleConnTimeout: how long a pooled connection may idle before the client closes it. */
  readonly idleMs: number;
}

/** A Node agent that keeps connections the way Go's http.Transport does. */
class GoTransport extends Agent {
  readonly idleMs: number;
  constructor(timeouts: TransportTimeouts) {
    super({
      keepAlive: true,
      maxFreeSockets: MAX_IDLE_CONNS_PER_HOST,
      scheduling: 'lifo',
      timeout: timeouts.idleMs,
    });
    this.idleMs = timeouts.idleMs;
  }

  // Node shortens the idle timeout to the server's Keep-Alive hint minus 1 s; Go does not, which is
  // how a server that closes before 90 s races the API server.
  override keepSocketAlive(socket: Duplex): boolean {
    if (socket instanceof Socket) {
      socket.setKeepAlive(true, 30_000);
      socket.unref();
      socket.setTimeout(this.idleMs);
    }
    return true;
  }
}

export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export interface PostTarget {
  readonly host: string;
  readonly port: number;
  /** The Service DNS name the certificate must carry (tls.Config.ServerName). */
  readonly servername: string;
  readonly path: string;
  readonly ca: string;
}

export interface WebhookTransport {
  post(target: PostTarget, payload: string, timeoutSeconds: number): Promise<Reply>;
  /** Connections opened so far (a reused one is not counted twice). */
  readonly connectionsOpened: number;
  /** Closes every pooled connection. */
  close(): void;
}

export function webhookTransport(
  timeouts: TransportTimeouts = { idleMs: IDLE_CONN_TIMEOUT_MS },
): WebhookTransport {
  const agent = new GoTransport(timeouts);
  let opened = 0;
  return {
    get connectionsOpened() {
      return opened;
    },
    close: () => agent.destroy(),
    post(target, payload, timeoutSeconds) {
      return new Promise((resolve, reject) => {
        const req = request(
          {
            host: target.host,
            port: target.port,
            servername: target.servername,
            path: target.path,
            method: 'POST',
            ca: target.ca,
            agent,
            signal: AbortSignal.timeout(timeoutSeconds * 1000),
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, */*',
              'content-length': Buffer.byteLength(payload),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                contentType: String(res.headers['content-type'] ?? ''),
                body: Buffer.concat(chunks).toString('utf8'),
              }),
            );
            res.on('error', reject);
          },
        );
        req.on('socket', (socket) => {
          if (req.reusedSocket) return;
          opened += 1;
          // Go's TLSHandshakeTimeout; the request deadline still applies on top.
          const handshake = setTimeout(
            () =>
              socket.destroy(
                Object.assign(new Error('net/http: TLS handshake timeout'), {
                  code: 'GO_TLS_HANDSHAKE_TIMEOUT',
                }),
              ),
            TLS_HANDSHAKE_TIMEOUT_MS,
          );
          handshake.unref();
          socket.once('secureConnect', () => clearTimeout(handshake));
          socket.once('close', () => clearTimeout(handshake));
        });
        req.on('error', reject);
        req.end(payload);
      });
    },
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Go's wording for what Node reports, so failures read like the API server's. */
export function goError(err: unknown, dialed: string, servername: string): string {
  const code = isRecord(err) && typeof err['code'] === 'string' ? err['code'] : '';
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'))
    return 'context deadline exceeded';
  if (code === 'ECONNREFUSED') return `dial tcp ${dialed}: connect: connection refused`;
  if (code === 'GO_TLS_HANDSHAKE_TIMEOUT') return message;
  // The peer closed without answering: Go's persistConn reports io.EOF (or a reset when it saw an RST).
  if (code === 'ECONNRESET' && message === 'socket hang up') return 'EOF';
  if (code === 'ECONNRESET') return `read tcp 127.0.0.1->${dialed}: read: connection reset by peer`;
  if (
    [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    ].includes(code)
  ) {
    return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const cert = isRecord(err) && isRecord(err['cert']) ? err['cert'] : {};
    const dnsNames = String(cert['subjectaltname'] ?? '')
      .split(', ')
      .filter((n) => n.startsWith('DNS:'))
      .map((n) => n.slice(4));
    return `tls: failed to verify certificate: x509: certificate is valid for ${dnsNames.join(', ')}, not ${servername}`;
  }
  return message;
}

/** client-go rest: isTextResponse (no Content-Type, or text/*) decides whether the body is quoted. */
const isTextResponse = (contentType: string): boolean =>
  contentType === '' || contentType.trim().toLowerCase().startsWith('text/');

/** apimachinery errors.NewGenericServerResponse for the webhook client (no resource, so no suffix). */
function genericServerResponse(status: number, serverMessage: string): string {
  switch (status) {
    case 400:
      return 'the server rejected our request for an unknown reason';
    case 401:
      return 'the server has asked for the client to provide credentials';
    case 403:
      return serverMessage;
    case 404:
      return 'the server could not find the requested resource';
    case 405:
      return 'the server does not allow this method on the requested resource';
    case 409:
      return 'the server reported a conflict';
    case 415:
      return 'the server was unable to handle the request content type';
    case 422:
      return 'the server rejected our request due to an error in our request';
    case 429:
      return 'the server has received too many requests and has asked us to try again later';
    case 503:
      return 'the server is currently unable to handle the request';
    case 504:
      return 'the server was unable to return a response in the time allotted, but may still be processing the request';
    default:
      if (status >= 500)
        return `an error on the server (${JSON.stringify(serverMessage)}) has prevented the request from succeeding`;
      return `the server responded with the status code ${status} but did not return more information`;
  }
}

/**
 * rest.Result for a status outside 200-206: a metav1.Status body with status Failure is used as
 * it is; otherwise the generic message, quoting a text body (first 1 KiB) or saying "unknown".
 */
export function statusError(reply: Reply): string {
  try {
    const body: unknown = JSON.parse(reply.body);
    if (
      isRecord(body) &&
      body['kind'] === 'Status' &&
      body['status'] === 'Failure' &&
      typeof body['message'] === 'string'
    )
      return body['message'];
  } catch {
    // not JSON: fall through to the generic message
  }
  return genericServerResponse(
    reply.status,
    isTextResponse(reply.contentType) ? reply.body.slice(0, 1024).trim() : 'unknown',
  );
}

/** client-go reads any reply from 200 to 206 (rest.Request.transformResponse). */
export const isReadable = (status: number): boolean => status >= 200 && status <= 206;
