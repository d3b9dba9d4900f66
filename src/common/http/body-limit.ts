import type { FastifyInstance, RouteOptions } from 'fastify';
import { MergeRouteConfig } from './route-config';

/**
 * A larger body limit for one route (the server's stays 1 MiB). A Fastify route option, applied by
 * the onRoute hook below. It adds to the route's config (beside `@Etag()` and the access declaration).
 */
export const BodyLimit = (bytes: number) => MergeRouteConfig({ bodyLimit: bytes });

/** Registered by the app factory before the routes are: gives marked routes their own limit. */
export function applyRouteBodyLimits(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const limit = (route.config as { bodyLimit?: unknown } | undefined)?.bodyLimit;
    if (typeof limit === 'number') route.bodyLimit = limit;
  });
}
