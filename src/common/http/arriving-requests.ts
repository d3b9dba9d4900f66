import type { FastifyInstance, FastifyRequest } from 'fastify';
import { answerOnSocketAndClose } from './edge-errors';

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/**
 * Requests whose body is still arriving. Node cuts them off after REQUEST_TIMEOUT_MS, but it stops
 * checking once the server begins to close; during a graceful shutdown they are cut here instead, so
 * a stalled upload cannot hold the exit. Only requests with a body are tracked (reads cost nothing).
 */
export class ArrivingRequests {
  private readonly arriving = new Set<FastifyRequest>();

  install(fastify: FastifyInstance): void {
    // Callback-style hooks: no promise per request.
    const arrived = (request: FastifyRequest, _reply: unknown, done: () => void) => {
      this.arriving.delete(request);
      done();
    };
    fastify.addHook('onRequest', (request, _reply, done) => {
      if (!BODYLESS.has(request.method)) this.arriving.add(request);
      done();
    });
    // The body has been read (or there was none to read): no longer arriving.
    fastify.addHook('preValidation', arrived);
    fastify.addHook('onResponse', arrived);
    fastify.addHook('onRequestAbort', (request, done) => {
      this.arriving.delete(request);
      done();
    });
  }

  /** Answers every request still arriving with a 408 and closes its connection. */
  cutOff(): number {
    let cut = 0;
    for (const request of this.arriving) {
      this.arriving.delete(request);
      if (request.raw.complete || request.raw.socket.destroyed) continue;
      answerOnSocketAndClose(request.raw.socket, 'request-timeout', 'The service is shutting down and the request had not arrived; send it again.', String(request.id));
      cut++;
    }
    return cut;
  }
}
