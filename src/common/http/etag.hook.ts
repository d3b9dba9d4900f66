import { MergeRouteConfig, routeConfigOf } from './route-config';
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

const KNOWN = Symbol('serialized representation');
const serializations = new WeakMap<object, SerializedJson>();

/** A representation serialised as JSON, with its ETag. */
interface SerializedJson {
  json: string;
  etag: string;
}

/**
 * For a representation handed out many times unchanged (a cached resolve answer): the handler returns
 * this instead of the object, and the JSON and its ETag are computed once per object, not per request.
 * The bytes are exactly what Fastify would have sent for the object (JSON.stringify, the same content
 * type). Only for objects nobody mutates after they are first sent.
 */
export function serializedOnce(reply: FastifyReply, representation: object): string {
  let serialized = serializations.get(representation);
  if (serialized === undefined) {
    const json = JSON.stringify(representation);
    serialized = { json, etag: etagOfJson(json) };
    serializations.set(representation, serialized);
  }
  (reply as unknown as Record<symbol, SerializedJson>)[KNOWN] = serialized;
  void reply.type('application/json; charset=utf-8');
  return serialized.json;
}

function tagged(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
  if (routeConfigOf(request)?.etag !== true || typeof payload !== 'string' || reply.statusCode >= 300) return payload;
  const known = (reply as unknown as Record<symbol, SerializedJson | undefined>)[KNOWN];
  const etag = known !== undefined && known.json === payload ? known.etag : etagOfJson(payload);
  void reply.header('etag', etag);
  if ((request.method === 'GET' || request.method === 'HEAD') && ifNoneMatchHits(request.headers['if-none-match'], etag)) {
    // A 304 has no body, so nothing describes one: no Content-Type, no Content-Length (RFC 9110 §15.4.5).
    void reply.code(304).removeHeader('content-type').removeHeader('content-length');
    return null;
  }
  return payload;
}
