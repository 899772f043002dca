import { Server as NetServer } from 'node:net';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from 'fastify';

/** How long open connections keep being answered after SIGTERM (`serve --drain-seconds`). */
export const DRAIN_WINDOW_MS = 15_000;

export interface Drain {
  /**
   * Stops accepting connections but keeps answering on the open ones: the API server's kept-alive
   * connections may still carry reviews after the pod left the endpoints. Every reply from now on
   * carries `Connection: close`, so each connection ends after its next reply. Resolves when all
   * have ended, or after `windowMs`, when the idle rest are closed.
   */
  begin(windowMs: number): Promise<void>;
}

/**
 * Installs the drain on an app. Node's `server.close()` also closes idle keep-alive connections,
 * and a review the API server sends on one just then is reset; so the listener is closed as a
 * plain net.Server, and idle connections only at the end of the window.
 */
export function installDrain<S extends RawServerBase, L extends FastifyBaseLogger>(
  app: FastifyInstance<S, RawRequestDefaultExpression<S>, RawReplyDefaultExpression<S>, L>,
): Drain {
  let draining = false;
  app.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  // Synchronous: an async hook costs a promise and a microtask on every reply.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) void reply.header('connection', 'close');
    done(null, payload);
  });
  return {
    begin(windowMs) {
      draining = true;
      const server = app.server;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          if ('closeIdleConnections' in server) server.closeIdleConnections();
          resolve();
        }, windowMs);
        if (!(server instanceof NetServer) || !server.listening) {
          clearTimeout(timer);
          resolve();
          return;
        }
        NetServer.prototype.close.call(server, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
