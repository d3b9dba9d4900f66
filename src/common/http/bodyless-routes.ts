import type { INestApplication } from '@nestjs/common';
import { PATH_METADATA, ROUTE_ARGS_METADATA, RouteParamtypes } from '@nestjs/common/internal';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { FASTIFY_ROUTE_CONFIG_METADATA } from './route-config';

/** Route `config` key set on every handler that takes no request body. */
export const BODYLESS_ROUTE = 'bodyless';

/**
 * `POST /webhooks/{id}/test` and the other actions without a body must not fail because a client
 * always sends `Content-Type: application/json` (an HTTP library with a default header sends it with
 * `Content-Length: 0`), (or with no length at all), which Fastify's JSON parser refuses as an empty body. Before the routes are
 * registered, every handler that binds no `@Body()` is marked in its route config; an empty request to
 * one of them is then read as what it is, a request without a body. Routes that take a body still
 * answer an empty one with 400 malformed-request.
 */
export function acceptEmptyBodiesOnBodylessRoutes(app: INestApplication, fastify: FastifyInstance): void {
  const scanner = new MetadataScanner();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller) continue;
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, object>)[name];
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, unknown>;
        if (Object.keys(args).some((key) => Number(key.split(':')[0]) === RouteParamtypes.BODY)) continue;
        const existing = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as Record<string, unknown> | undefined) ?? {};
        Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...existing, [BODYLESS_ROUTE]: true }, handler);
      }
    }
  }
  // Callback style, like the app's other hooks on the hot path: no promise per request.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const headers = request.raw.headers;
    const empty = headers['transfer-encoding'] === undefined && (headers['content-length'] === '0' || headers['content-length'] === undefined);
    if (empty && headers['content-type'] !== undefined && (request.routeOptions.config as unknown as Record<string, unknown> | undefined)?.[BODYLESS_ROUTE] === true) {
      // No content type and no length: Fastify runs the handler without parsing a body.
      delete headers['content-type'];
    }
    done();
  });
}
