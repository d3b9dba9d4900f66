import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import { RATE_LIMIT_EXEMPT_PATH, ROUTE_ACCESS, type RouteAccess } from '../common/auth/access.decorator';
import { hasAnyScope, type Principal } from '../common/auth/principal';
import { RequestContext } from '../common/context/request-context';
import { ApplicationError } from '../common/errors/application.error';
import { routeConfigOf } from '../common/http/route-config';
import { securityConfig } from '../config/security.config';
import { ANONYMOUS, AUTH_FAILURE_DETAILS, Authenticator, type AuthFailure } from './authenticator';
import { ModelAccess } from './model-access';
import { RateLimiter } from './rate-limiter';

/** A route of the application and who may call it (undefined: it declares nothing, which a test forbids). */
export interface RouteDescription {
  method: string;
  url: string;
  access: RouteAccess | undefined;
}

const PUBLIC: RouteAccess = { kind: 'public' };
/** Fail closed: a route that declares nothing is for admins only (and the route test fails). */
const UNDECLARED: RouteAccess = { kind: 'scope', anyOf: ['admin'], models: 'none' };
/** The OpenAPI document and Swagger UI, served by @nestjs/swagger outside any controller. */
const DOCS_ROUTE = /^\/docs(?:[-/].*)?$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LEAVE_CONTEXT = 'leaveRequestContext';
type ContextualRequest = FastifyRequest & { [LEAVE_CONTEXT]: (() => void) | null };

function accessOf(request: FastifyRequest): RouteAccess | undefined {
  return routeConfigOf(request)?.[ROUTE_ACCESS] as RouteAccess | undefined;
}

/**
 * Authentication, rate limiting and authorization for every route, in Fastify hooks so that a
 * refused request costs no body parsing, no validation and no handler. The declaration comes from
 * the route's decorator (`@RequireScope`, `@Public`, …) through its Fastify route config:
 *
 * onRequest: resolve the caller (cached keys: no database round trip) → count it against the rate
 *   limit (by key or token subject; anonymous callers by IP) → 401 / 403 from the route's scopes.
 * preHandler (body parsed): check the models a model-restricted key addresses; then run the handler
 *   of a mutating request inside the request context, which gives audit rows and change events their actor.
 */
@Injectable()
export class AuthHooks implements OnApplicationShutdown {
  private readonly logger = new Logger('Auth');
  readonly routes: RouteDescription[] = [];
  private limiter?: RateLimiter;

  constructor(
    private readonly authenticator: Authenticator,
    private readonly modelAccess: ModelAccess,
    @Inject(securityConfig.KEY) private readonly config: ConfigType<typeof securityConfig>,
  ) {}

  /** Called by the app factory before routes are registered. */
  async install(fastify: FastifyInstance): Promise<void> {
    fastify.decorateRequest('principal', null);
    fastify.decorateRequest(LEAVE_CONTEXT, null);
    fastify.addHook('onRoute', (route) => this.describeRoute(route));
    fastify.addHook('onReady', async () => {
      const undeclared = this.routes.filter((route) => route.access === undefined && route.method !== 'OPTIONS');
      if (undeclared.length > 0) this.logger.error({ routes: undeclared.map((r) => `${r.method} ${r.url}`) }, 'routes without an access declaration: admin only');
    });
    this.limiter = await RateLimiter.install(fastify, this.config.rateLimit, this.logger);
    fastify.addHook('onRequest', (request, reply, done) => this.onRequest(request, reply, done));
    fastify.addHook('preHandler', (request, reply, done) => this.preHandler(request, reply, done));
    // A mutation's request context ends with its response (or its abort).
    fastify.addHook('onResponse', (request, _reply, done) => {
      (request as ContextualRequest)[LEAVE_CONTEXT]?.();
      done();
    });
    fastify.addHook('onRequestAbort', (request, done) => {
      (request as ContextualRequest)[LEAVE_CONTEXT]?.();
      done();
    });
    if (!this.config.authRequired) {
      this.logger.warn('AUTH_REQUIRED=false: requests without credentials are served as an anonymous admin. Set AUTH_REQUIRED=true before exposing this service.');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.limiter?.close();
  }

  private describeRoute(route: RouteOptions): void {
    let access = (route.config as { [ROUTE_ACCESS]?: RouteAccess } | undefined)?.[ROUTE_ACCESS];
    if (!access && DOCS_ROUTE.test(route.url)) {
      access = PUBLIC;
      route.config = { ...(route.config as object), [ROUTE_ACCESS]: access } as RouteOptions['config'];
    }
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) this.routes.push({ method, url: route.url, access });
  }

  /**
   * Callback style, and synchronous unless a credential must be verified or a shared rate limit
   * counted: a request without credentials (AUTH_REQUIRED=false) costs no promise here.
   */
  private onRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    // CORS preflights carry no credentials and return no data.
    if (request.method === 'OPTIONS') return done();
    const route = routeConfigOf(request)?.url;
    // No route matched: no caller needed to learn that (404), but the attempt still counts.
    const access = route === undefined ? PUBLIC : (accessOf(request) ?? UNDECLARED);
    const needsCaller = access.kind !== 'public' && !(access.kind === 'metrics' && !this.config.metricsToken);
    const limited = this.limiter !== undefined && !(route !== undefined && RATE_LIMIT_EXEMPT_PATH.test(route));
    const proceed = (result: Principal | AuthFailure | undefined) => {
      let failure: AuthFailure | undefined;
      if (result !== undefined) {
        if (typeof result !== 'string') request.principal = result;
        else if (result === 'missing' && !this.config.authRequired && access.kind !== 'metrics') request.principal = ANONYMOUS;
        else failure = result;
      }
      const authorize = () => {
        if (needsCaller) this.authorize(access, request.principal, failure ?? 'missing', reply);
      };
      if (limited) return void this.limiter!.check(request, reply).then(authorize).then(() => done(), done);
      try {
        authorize();
      } catch (error) {
        return done(error as Error);
      }
      done();
    };
    if (!needsCaller) return proceed(undefined);
    const header = request.headers.authorization;
    if (this.authenticator.absent(header)) return proceed('missing');
    this.authenticator.authenticate(header).then(proceed, done);
  }

  private authorize(access: RouteAccess, principal: Principal | null, failure: AuthFailure, reply: FastifyReply): void {
    if (!principal) {
      // RFC 6750: no error code when the request carried no credentials at all.
      void reply.header('www-authenticate', failure === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"');
      throw new ApplicationError('unauthorized', AUTH_FAILURE_DETAILS[failure], undefined, { reason: failure });
    }
    if (access.kind === 'authenticated') return;
    if (access.kind === 'metrics') {
      if (principal.kind === 'metrics' || (principal.kind !== 'anonymous' && principal.scopes.has('admin'))) return;
      throw this.missingScope(reply, 'metrics', 'GET /metrics needs the METRICS_TOKEN (or an admin key).');
    }
    if (access.kind !== 'scope') return;
    if (!hasAnyScope(principal, access.anyOf)) {
      const needed = access.anyOf.join(' or ');
      throw this.missingScope(reply, access.anyOf.join(' '), `This operation requires the ${needed} scope; the caller has ${[...principal.scopes].join(', ') || 'no scope'}.`, access.anyOf);
    }
    if (principal.models && access.models === 'unrestricted') {
      throw new ApplicationError('forbidden', `This operation spans every model; this key is restricted to models matching ${principal.models.patterns.join(', ')}.`, undefined, {
        model_restriction: principal.models.patterns,
      });
    }
  }

  private missingScope(reply: FastifyReply, scope: string, detail: string, required: string[] = []): ApplicationError {
    void reply.header('www-authenticate', `Bearer error="insufficient_scope", scope="${scope}"`);
    return new ApplicationError('forbidden', detail, undefined, { required_scopes: required });
  }

  private preHandler(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const principal = request.principal;
    const proceed = () => {
      if (SAFE_METHODS.has(request.method)) done();
      else (request as ContextualRequest)[LEAVE_CONTEXT] = RequestContext.enter({ actor: principal ?? ANONYMOUS, requestId: String(request.id) }, () => done());
    };
    const access = accessOf(request);
    if (principal?.models && access?.kind === 'scope' && ModelAccess.needsRequestData(access.models)) {
      this.modelAccess.check(principal, access.models, request).then(proceed, (error: unknown) => done(error as Error));
    } else {
      proceed();
    }
  }
}
