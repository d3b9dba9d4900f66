import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { MergeRouteConfig } from '../http/route-config';
import type { ModelRestriction } from './model-patterns';
import type { Scope } from '../../config/scopes';

/**
 * Who may call a route. Every route declares exactly one of these with a decorator below; the auth
 * hooks enforce them (in one place, before the body is read) and a test fails for any route that
 * declares none.
 */
export type RouteAccess =
  | { kind: 'public' }
  /** Open unless METRICS_TOKEN is set; then that token (or an admin) is needed. */
  | { kind: 'metrics' }
  /** Any valid credential, whatever its scopes. */
  | { kind: 'authenticated' }
  | { kind: 'scope'; anyOf: Scope[]; models: ModelRule };

/** How the caller's model restriction (API keys created with `models`) applies to a route. */
export type ModelRule =
  /** The route touches no model. */
  | 'none'
  /** A list: the handler filters it with `@RestrictedModels()`. */
  | 'list'
  /** Spans every model: callers restricted to some models are refused. */
  | 'unrestricted'
  /** The request names the model(s) it touches; each is checked before the handler runs. */
  | ModelTarget[];

export type ModelLookup = 'model_name' | 'model_id' | 'version_id' | 'binding_id' | 'retention_run_id';

export interface ModelTarget {
  source: 'params' | 'body' | 'query';
  field: string;
  lookup: ModelLookup;
  /** Absent (or malformed, which validation then rejects): skip the check, or refuse a restricted caller. */
  whenMissing: 'skip' | 'forbid';
}

const target =
  (lookup: ModelLookup) =>
  (source: ModelTarget['source'], field: string, whenMissing: ModelTarget['whenMissing'] = 'skip'): ModelTarget => ({ source, field, lookup, whenMissing });

/** Builders for {@link ModelTarget}s: `ModelIn.modelId('params', 'id')`, `ModelIn.versionId('body', 'version_id')`. */
export const ModelIn = {
  modelName: target('model_name'),
  modelId: target('model_id'),
  versionId: target('version_id'),
  bindingId: target('binding_id'),
  retentionRunId: target('retention_run_id'),
};

export const ROUTE_ACCESS = 'access';

/** Probes and scrapes are never rate limited: a busy monitoring system must not take an instance out. */
export const RATE_LIMIT_EXEMPT_PATH = /^\/(?:health(?:\/.*)?|metrics)$/;
const ACCESS_METADATA = 'model-registry:access';

/**
 * The declaration is the single source of both the enforcement (the auth hooks read it from the route's
 * Fastify config) and the documentation (the OpenAPI rules read it from the handler's metadata).
 */
function declare(access: RouteAccess) {
  return applyDecorators(MergeRouteConfig({ [ROUTE_ACCESS]: access }), SetMetadata(ACCESS_METADATA, access));
}

/** The access a handler declares, if any. */
export function routeAccessOf(handler: object): RouteAccess | undefined {
  return Reflect.getMetadata(ACCESS_METADATA, handler) as RouteAccess | undefined;
}

/** Open to anyone, credentials or not (probes, documentation). */
export const Public = () => declare({ kind: 'public' });

/** GET /metrics: open unless METRICS_TOKEN is set. */
export const MetricsAccess = () => declare({ kind: 'metrics' });

/** Any authenticated caller. */
export const Authenticated = () => declare({ kind: 'authenticated' });

/**
 * The caller needs one of `scopes` (or `admin`). `models` says how a key restricted to some models is
 * checked; it is required so that no route forgets the question.
 *
 * ```ts
 * @Put(':id')
 * @RequireScope('registry:manage', [ModelIn.modelId('params', 'id')])
 * ```
 */
export function RequireScope(scopes: Scope | Scope[], models: ModelRule) {
  return declare({ kind: 'scope', anyOf: Array.isArray(scopes) ? scopes : [scopes], models });
}

/**
 * The model restriction to apply to a list (routes declared with `models: 'list'`): undefined when the
 * caller may see every model.
 */
export const RestrictedModels = createParamDecorator((_data: unknown, context: ExecutionContext): ModelRestriction | undefined => {
  return context.switchToHttp().getRequest<FastifyRequest>().principal?.models ?? undefined;
});
