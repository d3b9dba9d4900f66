import type { FastifyRequest } from 'fastify';
/**
 * The metadata key under which @nestjs/platform-fastify reads a handler's Fastify route `config`
 * (its own `RouteConfig` decorator writes it, but replaces what is there). Checked by a unit test.
 */
export const FASTIFY_ROUTE_CONFIG_METADATA = '__fastify_route_config__';

/**
 * Adds entries to a route's Fastify `config` without replacing the ones other decorators set, so
 * `@Etag()` and an access declaration can sit on the same handler. Hooks read them with
 * `routeConfigOf(request)`, at no per-request cost beyond a property read.
 */
export function MergeRouteConfig(config: Record<string, unknown>): MethodDecorator {
  return (_target, _key, descriptor) => {
    mergeRouteConfig(descriptor.value as object, config);
    return descriptor;
  };
}

/** MergeRouteConfig on a handler method directly (before the routes are registered). */
export function mergeRouteConfig(handler: object, config: Record<string, unknown>): void {
  const existing = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as Record<string, unknown> | undefined) ?? {};
  Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...existing, ...config }, handler);
}

/** A matched route's config as Fastify keeps it: `url` (the template) and `method`, and what the decorators above added. */
export type RouteConfigOf = Record<string | symbol, unknown> & { url?: string; method?: string | string[] };

/**
 * Fastify's own symbol for the request's route context (not part of its typed API). Read from the
 * package once; if a Fastify release drops it, `routeConfigOf` falls back to the public getter.
 */
const ROUTE_CONTEXT: symbol | undefined = (() => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const symbols = require('fastify/lib/symbols') as { kRouteContext?: unknown };
    return typeof symbols.kRouteContext === 'symbol' ? symbols.kRouteContext : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * The config of the route now serving the request: what `request.routeOptions.config` returns, without
 * the object of a dozen fields that getter builds on every read (the hooks read it about five times per
 * request). For a request no route matched it is the not-found route's config, without a `url`.
 */
export function routeConfigOf(request: FastifyRequest): RouteConfigOf | undefined {
  const context = ROUTE_CONTEXT === undefined ? undefined : (request as unknown as Record<symbol, { config?: RouteConfigOf } | undefined>)[ROUTE_CONTEXT];
  if (context === undefined) return request.routeOptions.config as RouteConfigOf | undefined;
  return context.config;
}
