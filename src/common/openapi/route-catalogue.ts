import { RequestMethod, type INestApplication, type Type } from '@nestjs/common';
import { METHOD_METADATA, RouteParamtypes } from '@nestjs/common/internal';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import { DECORATORS } from '@nestjs/swagger';
import { IF_MATCH_ROUTE } from '../http/if-match.decorator';
import { argKind, routeHandlers, type RouteHandler } from '../http/route-handlers';
import { routeAccessOf, type RouteAccess } from '../auth/access.decorator';

/**
 * What the OpenAPI document needs to know about a route beyond what @nestjs/swagger reads: the
 * runtime behaviour its decorators switch on (ETag, If-Match, who may call it) and the classes its
 * inputs are validated against. The document is refined from these facts, so a route documents a
 * behaviour by having it, not by repeating it in a second decorator.
 */
export interface RouteFacts {
  /** `Controller.method`, for messages. */
  handler: string;
  /** The operationId given in @ApiOperation, if any. */
  operationId?: string;
  summary?: string;
  method: string;
  /** `@Etag()`: 2xx responses carry an ETag; a GET answers If-None-Match with 304. */
  etag: boolean;
  /** `@IfMatch()`: the write honours If-Match and answers 412 when it does not match. */
  ifMatch: boolean;
  /** Who may call it (`@Public()`, `@RequireScope(…)`, …): the same declaration the auth hooks enforce. */
  access?: RouteAccess;
  /** The DTO classes the validation pipe checks the body, query string and path against. */
  body?: Type;
  query?: Type;
  params?: Type;
}

const INPUTS: Partial<Record<RouteParamtypes, 'body' | 'query' | 'params'>> = {
  [RouteParamtypes.BODY]: 'body',
  [RouteParamtypes.QUERY]: 'query',
  [RouteParamtypes.PARAM]: 'params',
};

const isDto = (type: unknown): type is Type => typeof type === 'function' && ![String, Number, Boolean, Object, Array].includes(type as never);

/** Every route of every controller in the application (works on an app created with `preview: true`). */
export function collectRouteFacts(app: INestApplication): RouteFacts[] {
  return routeHandlers(app)
    .filter(({ controller, handler }) => Reflect.getMetadata(DECORATORS.API_EXCLUDE_CONTROLLER, controller)?.[0] !== true && Reflect.getMetadata(DECORATORS.API_EXCLUDE_ENDPOINT, handler)?.disable !== true)
    .map(routeFacts);
}

function routeFacts({ controller, name, handler, args }: RouteHandler): RouteFacts {
  const operation = (Reflect.getMetadata(DECORATORS.API_OPERATION, handler) ?? {}) as { operationId?: string; summary?: string };
  const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) ?? {}) as { etag?: boolean };
  const facts: RouteFacts = {
    handler: `${controller.name}.${name}`,
    operationId: operation.operationId,
    summary: operation.summary,
    method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod],
    etag: config.etag === true,
    ifMatch: Reflect.getMetadata(IF_MATCH_ROUTE, handler) === true,
    access: routeAccessOf(handler),
  };
  const parameterTypes = (Reflect.getMetadata('design:paramtypes', controller.prototype, name) ?? []) as unknown[];
  for (const [key, { index, data }] of Object.entries(args)) {
    const input = INPUTS[argKind(key)];
    // `@Param('name')` binds one value, not a DTO: @nestjs/swagger documents it from the decorator.
    if (input && data === undefined && isDto(parameterTypes[index])) facts[input] = parameterTypes[index];
  }
  return facts;
}
