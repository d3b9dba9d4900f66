import 'reflect-metadata';
import { RouteConfig } from '@nestjs/platform-fastify';
import Fastify from 'fastify';
import { FASTIFY_ROUTE_CONFIG_METADATA, MergeRouteConfig, routeConfigOf } from './route-config';

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

describe(routeConfigOf.name, () => {
  it('is what request.routeOptions.config is, in every hook, for matched, unmatched and not-found-called requests', async () => {
    const fastify = Fastify();
    const seen: { hook: string; url: string; ours: unknown; fastify: unknown; template: unknown }[] = [];
    for (const hook of ['onRequest', 'preHandler', 'onSend', 'onResponse'] as const) {
      fastify.addHook(hook, (request: any, _reply: any, ...rest: any[]) => {
        seen.push({ hook, url: request.url, ours: routeConfigOf(request), fastify: request.routeOptions.config, template: routeConfigOf(request)?.url });
        const done = rest[rest.length - 1];
        if (hook === 'onSend') done(null, rest[0]);
        else done();
      });
    }
    fastify.get('/things/:id', { config: { etag: true } }, async () => ({ ok: true }));
    fastify.get('/gone', async (_request, reply) => reply.callNotFound());
    const base = await fastify.listen({ host: '127.0.0.1', port: 0 });
    for (const url of ['/things/1', '/nowhere', '/gone']) await (await fetch(base + url)).text();
    await fastify.close();

    expect(seen.length).toBeGreaterThanOrEqual(11);
    for (const entry of seen) expect(entry.ours).toBe(entry.fastify);
    expect(seen.filter((e) => e.url === '/things/1').map((e) => [e.hook, e.template, (e.ours as { etag?: boolean }).etag])).toEqual([
      ['onRequest', '/things/:id', true],
      ['preHandler', '/things/:id', true],
      ['onSend', '/things/:id', true],
      ['onResponse', '/things/:id', true],
    ]);
    expect(seen.filter((e) => e.url === '/nowhere').every((e) => e.template === undefined)).toBe(true);
    // After callNotFound the request is the not-found route's: no template any more.
    expect(seen.filter((e) => e.url === '/gone').at(-1)?.template).toBeUndefined();
  });
});
