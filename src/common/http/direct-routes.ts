import type { INestApplication, Type } from '@nestjs/common';
import { RESPONSE_PASSTHROUGH_METADATA, RouteParamtypes } from '@nestjs/common/internal';
import { ExecutionContextHost } from '@nestjs/core/internal';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod, RouteOptions } from 'fastify';
import { ProblemDetailsFilter } from '../errors/problem-details.filter';
import { fastPathOf, type FastPath } from '../validation/fast-path';
import { runInHandlerSpan } from './handler-span';
import { mergeRouteConfig } from './route-config';
import { argKind, routeHandlers, type RouteHandler } from './route-handlers';

/** Route `config` key naming the direct handler of a route (see {@link Direct}). */
export const DIRECT_ROUTE = 'direct';
const DIRECT_METADATA = 'model-registry:direct';

/**
 * Marks a hot read (resolve, a model by id or name) to be served without Nest's router when its input
 * is plainly valid: Fastify calls the controller method itself with the arguments Nest would have built.
 *
 * What Nest's pipeline does for such a route, the direct handler does the same way: the access
 * declaration, rate limit, request id, ETag, security headers, log line and metrics are Fastify hooks
 * and run for both; the validation pipe's result is the DTO's fast path (the pipe returns exactly that
 * when the fast path accepts); errors go through the same {@link ProblemDetailsFilter}; when tracing is
 * on, the handler gets the same span. Input a fast path declines — every invalid input, and valid input
 * it does not recognise — is handed to Nest's own handler, so every validation error is still
 * class-validator's.
 *
 * Only `@Param`, `@Query` and `@Res({ passthrough: true })` arguments can be direct: a route with any
 * other argument (a body, a header, a custom decorator) or a DTO without a fast path is refused when
 * the app starts.
 */
export const Direct = (): MethodDecorator => (_target, _key, descriptor) => {
  Reflect.defineMetadata(DIRECT_METADATA, true, descriptor.value as object);
  return descriptor;
};

/** Builds one argument from the request; DECLINE hands the request to Nest's own handler. */
type ArgumentBuilder = (request: FastifyRequest, reply: FastifyReply) => unknown;
const DECLINE = Symbol('decline');

interface DirectRoute {
  /** `Controller.method`, the key in the route's config. */
  name: string;
  invoke: (request: FastifyRequest, reply: FastifyReply) => unknown;
  controller: Type;
  handler: (...args: unknown[]) => unknown;
}

function argumentBuilders(route: RouteHandler): ArgumentBuilder[] {
  const paramTypes = (Reflect.getMetadata('design:paramtypes', route.controller.prototype, route.name) ?? []) as unknown[];
  const builders: ArgumentBuilder[] = [];
  const where = `${route.controller.name}.${route.name}`;
  const passthrough = Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, route.controller, route.name) === true;
  for (const [key, { index, data }] of Object.entries(route.args)) {
    const kind = argKind(key);
    const metatype = paramTypes[index];
    if (kind === RouteParamtypes.RESPONSE && passthrough) {
      builders[index] = (_request, reply) => reply;
      continue;
    }
    if ((kind === RouteParamtypes.PARAM || kind === RouteParamtypes.QUERY) && typeof data === 'string' && metatype === String) {
      // The validation pipe leaves a named string argument as it is.
      builders[index] =
        kind === RouteParamtypes.PARAM
          ? (request) => stringOrDecline((request.params as Record<string, unknown>)[data])
          : (request) => stringOrDecline((request.query as Record<string, unknown>)[data]);
      continue;
    }
    if ((kind === RouteParamtypes.PARAM || kind === RouteParamtypes.QUERY) && data === undefined) {
      const parse: FastPath<object> | undefined = fastPathOf(metatype);
      if (!parse) throw new Error(`@Direct() ${where}: argument ${index} (${String((metatype as { name?: string })?.name)}) has no fast path`);
      builders[index] =
        kind === RouteParamtypes.PARAM
          ? (request) => parsedOrDecline(parse, request.params)
          : (request) => parsedOrDecline(parse, request.query);
      continue;
    }
    throw new Error(`@Direct() ${where}: argument ${index} cannot be built outside Nest (only @Param, @Query and @Res({ passthrough: true }))`);
  }
  if (builders.length !== paramTypes.length || builders.some((builder) => builder === undefined)) {
    throw new Error(`@Direct() ${where}: every argument needs a decorator`);
  }
  return builders;
}

function stringOrDecline(value: unknown): unknown {
  return typeof value === 'string' ? value : DECLINE;
}

function parsedOrDecline(parse: FastPath<object>, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return DECLINE;
  return parse(value as Record<string, unknown>) ?? DECLINE;
}

function directRoute(app: INestApplication, route: RouteHandler): DirectRoute {
  const instance = app.get(route.controller, { strict: false }) as Record<string, (...args: unknown[]) => unknown>;
  const method = instance[route.name];
  const builders = argumentBuilders(route);
  const name = `${route.controller.name}.${route.name}`;
  return {
    name,
    controller: route.controller,
    handler: route.handler as (...args: unknown[]) => unknown,
    invoke: (request, reply) => {
      const args = new Array<unknown>(builders.length);
      for (let i = 0; i < builders.length; i++) {
        const value = builders[i](request, reply);
        if (value === DECLINE) return DECLINE;
        args[i] = value;
      }
      return runInHandlerSpan(route.controller.name, route.name, () => method.apply(instance, args));
    },
  };
}

/**
 * Before the routes are registered: each `@Direct()` route's Fastify handler becomes one that serves
 * plainly valid input itself and hands anything else to the handler Nest registered.
 */
export function installDirectRoutes(app: INestApplication, fastify: FastifyInstance): string[] {
  const routes = new Map<string, DirectRoute>();
  for (const route of routeHandlers(app)) {
    if (Reflect.getMetadata(DIRECT_METADATA, route.handler) !== true) continue;
    const direct = directRoute(app, route);
    routes.set(direct.name, direct);
    mergeRouteConfig(route.handler, { [DIRECT_ROUTE]: direct.name });
  }
  const filter = new ProblemDetailsFilter();
  fastify.addHook('onRoute', (options: RouteOptions) => {
    const name = (options.config as Record<string, unknown> | undefined)?.[DIRECT_ROUTE];
    const direct = typeof name === 'string' ? routes.get(name) : undefined;
    if (!direct) return;
    const nest = options.handler;
    // Like Nest's own handler: the status of a GET is 200, the result is sent as JSON, an error becomes
    // the problem the exception filter writes.
    options.handler = async function directHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      let result: unknown;
      try {
        const pending = direct.invoke(request, reply);
        if (pending === DECLINE) return nest.call(this, request, reply);
        result = await pending;
      } catch (error) {
        filter.catch(error, new ExecutionContextHost([request, reply, undefined], direct.controller, direct.handler));
        return;
      }
      void reply.status(200).send(result);
    } as RouteHandlerMethod;
  });
  return [...routes.keys()];
}
