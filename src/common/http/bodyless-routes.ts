import type { INestApplication } from '@nestjs/common';
import { RouteParamtypes } from '@nestjs/common/internal';
import type { FastifyInstance } from 'fastify';
import { mergeRouteConfig, routeConfigOf } from './route-config';
import { argKind, routeHandlers } from './route-handlers';

/** Route `config` key set on every handler that takes no request body. */
export const BODYLESS_ROUTE = 'bodyless';

/**
 * `POST /webhooks/{id}/test` and the other actions without a body must not fail because a client
 * always sends `Content-Type: application/json` (an HTTP library with a default header sends it with
 * `Content-Length: 0`, or with no length at all), which Fastify's JSON parser refuses as an empty body. Before the routes are
 * registered, every handler that binds no `@Body()` is marked in its route config; an empty request to
 * one of them is then read as what it is, a request without a body. Routes that take a body still
 * answer an empty one with 400 malformed-request.
 */
export function acceptEmptyBodiesOnBodylessRoutes(app: INestApplication, fastify: FastifyInstance): void {
  for (const { handler, args } of routeHandlers(app)) {
    if (!Object.keys(args).some((key) => argKind(key) === RouteParamtypes.BODY)) mergeRouteConfig(handler, { [BODYLESS_ROUTE]: true });
  }
  // Callback style, like the app's other hooks on the hot path: no promise per request.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const headers = request.raw.headers;
    const empty = headers['transfer-encoding'] === undefined && (headers['content-length'] === '0' || headers['content-length'] === undefined);
    if (empty && headers['content-type'] !== undefined && routeConfigOf(request)?.[BODYLESS_ROUTE] === true) {
      // No content type and no length: Fastify runs the handler without parsing a body.
      delete headers['content-type'];
    }
    done();
  });
}
