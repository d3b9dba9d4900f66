import { MergeRouteConfig } from './route-config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { etagOfJson, ifNoneMatchHits } from './etag';

/**
 * Marks a single-resource route: its response gets an `ETag` from the representation, and a GET whose
 * If-None-Match already holds that tag gets 304 and no body. A Fastify route option rather than an
 * interceptor, so the hot path pays no interceptor chain; the work happens in `etagOnSend`.
 */
export const Etag = () => MergeRouteConfig({ etag: true });

/**
 * Fastify onSend hook (registered by the app factory): tags marked routes from the JSON about to be
 * sent. Callback style, like the app's other hot-path hooks: no promise per request.
 */
export function etagOnSend(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void): void {
  done(null, tagged(request, reply, payload));
}

function tagged(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  if ((request.routeOptions.config as { etag?: boolean } | undefined)?.etag !== true || typeof payload !== 'string' || reply.statusCode >= 300) return payload;
  const etag = etagOfJson(payload);
  void reply.header('etag', etag);
  if ((request.method === 'GET' || request.method === 'HEAD') && ifNoneMatchHits(request.headers['if-none-match'], etag)) {
    // A 304 has no body, so nothing describes one: no Content-Type, no Content-Length (RFC 9110 §15.4.5).
    void reply.code(304).removeHeader('content-type').removeHeader('content-length');
    return null;
  }
  return payload;
}
