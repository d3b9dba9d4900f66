import 'reflect-metadata';
import { RouteConfig } from '@nestjs/platform-fastify';
import { FASTIFY_ROUTE_CONFIG_METADATA, MergeRouteConfig } from './route-config';

describe(MergeRouteConfig.name, () => {
  it('writes where the Fastify adapter reads route config, keeping what other decorators set', () => {
    class Controller {
      @MergeRouteConfig({ access: 'x' })
      @RouteConfig({ rateLimit: false })
      @MergeRouteConfig({ etag: true })
      handler() {}
    }
    // RouteConfig (applied in the middle) replaced the first entry; the outer merge kept RouteConfig's.
    expect(Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, Controller.prototype.handler)).toEqual({ rateLimit: false, access: 'x' });
  });
});
