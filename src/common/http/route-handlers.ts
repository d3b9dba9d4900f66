import type { INestApplication, Type } from '@nestjs/common';
import { PATH_METADATA, ROUTE_ARGS_METADATA, RouteParamtypes } from '@nestjs/common/internal';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';

/** What a route's parameter decorators bind, keyed `<RouteParamtypes>:<index>` as Nest records them. */
export type RouteArgs = Record<string, { index: number; data?: unknown }>;

export interface RouteHandler {
  controller: Type;
  name: string;
  /** The method itself: where route metadata (path, Fastify config, access) is read and written. */
  handler: object;
  args: RouteArgs;
}

/** The kind of input a `RouteArgs` key binds (body, query, a path parameter, …). */
export function argKind(key: string): RouteParamtypes {
  return Number(key.split(':')[0]) as RouteParamtypes;
}

/** Every route handler of every controller in the application (works on an app created with `preview: true`). */
export function routeHandlers(app: INestApplication): RouteHandler[] {
  const scanner = new MetadataScanner();
  const handlers: RouteHandler[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) continue;
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, object>)[name];
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        handlers.push({ controller, name, handler, args: (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as RouteArgs });
      }
    }
  }
  return handlers;
}
