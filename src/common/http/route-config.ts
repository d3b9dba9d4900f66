/**
 * The metadata key under which @nestjs/platform-fastify reads a handler's Fastify route `config`
 * (its own `RouteConfig` decorator writes it, but replaces what is there). Checked by a unit test.
 */
export const FASTIFY_ROUTE_CONFIG_METADATA = '__fastify_route_config__';

/**
 * Adds entries to a route's Fastify `config` without replacing the ones other decorators set, so
 * `@Etag()` and an access declaration can sit on the same handler. Hooks read them from
 * `request.routeOptions.config`, at no per-request cost beyond a property read.
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
