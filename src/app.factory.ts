import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { BODY_LIMIT_BYTES, type AppConfig } from './config/app.config';
import { PinoLoggerService } from './common/logging/logger';
import { RequestLogger, requestLoggerFactory } from './common/logging/request-logger';
import { setUpOpenApi } from './common/openapi/openapi';
import { etagOnSend } from './common/http/etag.hook';
import { routeConfigOf } from './common/http/route-config';
import { securityHeaders } from './common/http/security-headers';
import { applyRouteBodyLimits } from './common/http/body-limit';
import { acceptEmptyBodiesOnBodylessRoutes } from './common/http/bodyless-routes';
import { installDirectRoutes } from './common/http/direct-routes';
import { buildProblem, PROBLEM_CONTENT_TYPE } from './common/errors/problem-details';
import { countLocalWrites } from './events/local-writes';
import { RegistryChanges } from './events/registry-changes';
import { ArrivingRequests } from './common/http/arriving-requests';
import { clientErrorHandler, frameworkErrorHandler } from './common/http/edge-errors';
import { AuthHooks } from './auth/auth.hooks';
import { LifecycleState } from './health/lifecycle.state';
import { HttpTelemetry } from './telemetry/http-telemetry';
import { tracingEnabled } from './telemetry/telemetry';

const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

const API_CSP = "default-src 'none'; frame-ancestors 'none'";
const DOCS_CSP =
  "default-src 'self'; base-uri 'self'; font-src 'self' https: data:; form-action 'self'; frame-ancestors 'self'; " +
  "img-src 'self' data: validator.swagger.io; object-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'";

/** A client's X-Request-Id is kept when it is a sane token; otherwise the request gets a fresh UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID.test(value) ? value : randomUUID();
}

/**
 * The Fastify adapter as production runs it: our logger, request ids, the 1 MiB body limit, proxies
 * trusted only when configured, a deadline for receiving a request, and problem+json for the errors
 * found before routing.
 */
export function createFastifyAdapter(logger: Logger, config: Pick<AppConfig, 'requestTimeoutMs' | 'trustProxy'>): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: logger,
    // One line per request comes from our onResponse hook below.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    requestIdHeader: false,
    // request.log becomes a pino child only when a line is written (see RequestLogger).
    childLoggerFactory: requestLoggerFactory,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => requestIdFrom(req.headers['x-request-id']),
    bodyLimit: BODY_LIMIT_BYTES,
    // Requests that still arrive while the server closes get a problem+json 503 (see configureApp).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    // A hop count is valid for Fastify (proxy-addr) though the adapter's option type omits it.
    trustProxy: config.trustProxy as boolean | string[],
    // A request (headers and body) must arrive within REQUEST_TIMEOUT_MS, or it gets a 408 and its
    // connection is closed: a stalled upload cannot hold a worker, or a graceful shutdown. Node checks
    // the deadline every connectionsCheckingInterval, and only while headersTimeout <= requestTimeout.
    requestTimeout: config.requestTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: Math.min(60_000, config.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(config.requestTimeoutMs / 4))),
    },
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
  });
}

export const NEST_APPLICATION_OPTIONS = {
  // Fastify's own JSON parser (with prototype-poisoning protection) is the only body parser:
  // any other content type is answered with 415.
  bodyParser: false,
  abortOnError: false,
} as const;

/**
 * Builds the application exactly as production runs it (adapter options, hooks, helmet, CORS,
 * OpenAPI), so that e2e tests exercise the same stack as `npm start`.
 */
export async function createApp(config: AppConfig, logger: Logger): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createFastifyAdapter(logger, config), {
    ...NEST_APPLICATION_OPTIONS,
    logger: new PinoLoggerService(logger),
  });
  await configureApp(app, config);
  return app;
}

const arrivingRequests = new WeakMap<NestFastifyApplication, ArrivingRequests>();

/** Hooks, security headers, CORS and OpenAPI on a created application. */
export async function configureApp(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeContentTypeParser(['text/plain']);
  applyRouteBodyLimits(fastify);
  acceptEmptyBodiesOnBodylessRoutes(app, fastify);
  // The hot reads (resolve, a model by id or name) skip Nest's router for plainly valid input.
  installDirectRoutes(app, fastify);

  const telemetry = new HttpTelemetry(tracingEnabled());
  // Once the server is closing, a request on a connection that is still open (keep-alive, pipelined)
  // is not served: it gets the documented 503 problem and the connection closes.
  const lifecycle = app.get(LifecycleState);
  fastify.addHook('preClose', async () => lifecycle.beginClosing());
  // helmet's usual security headers, computed once (the Content-Security-Policy is set by the onSend
  // hook below).
  const security = securityHeaders({ contentSecurityPolicy: false });
  // The app's hooks are callback style: an async hook costs a promise and its ticks on every request.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id).headers(security);
    telemetry.onRequest(request.id);
    if (!lifecycle.closing) return done();
    const context = { instance: request.url.split('?')[0], requestId: String(request.id) };
    void reply
      .code(503)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .header('retry-after', '5')
      .header('connection', 'close')
      .send(buildProblem('service-unavailable', 'The instance is shutting down. Retry the request; another instance will serve it.', context));
  });

  // The Content-Security-Policy is one of two fixed strings (helmet rebuilds its policy on every
  // request, a measurable cost on the hot path): JSON responses allow nothing, Swagger UI at /docs
  // needs its inline scripts and styles. Once shutdown has begun, every response closes its
  // connection, so keep-alive clients cannot hold the server open after their requests are done.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('content-security-policy', request.url.startsWith('/docs') ? DOCS_CSP : API_CSP);
    if (lifecycle.shuttingDown) void reply.header('connection', 'close');
    done(null, payload);
  });
  fastify.addHook('onSend', etagOnSend);
  fastify.addHook('onSend', countLocalWrites(app.get(RegistryChanges)));
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = routeConfigOf(request)?.url;
    const traceId = telemetry.onResponse(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    const quiet = (route?.startsWith('/health') || route === '/metrics') && reply.statusCode < 400;
    const level = quiet ? 'debug' : 'info';
    // The line's fields are built only when its level is logged; a RequestLogger writes it without
    // making a pino child for the request.
    const log = request.log as RequestLogger | Logger;
    if (log.isLevelEnabled(level)) {
      const fields = {
        method: request.method,
        route: route ?? null,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 100) / 100,
        ...(traceId ? { trace_id: traceId } : {}),
      };
      if (log instanceof RequestLogger) log.line(level, fields, 'request completed');
      else log[level](fields, 'request completed');
    }
    done();
  });

  // After the telemetry hooks: its onResponse must run first, while the request's span is still open.
  const arriving = new ArrivingRequests();
  arriving.install(fastify);
  arrivingRequests.set(app, arriving);

  // After the security headers (first hook above), so that refused requests carry them too.
  await app.get(AuthHooks).install(fastify);

  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['Content-Type', 'If-Match', 'If-None-Match', 'X-Request-Id', 'Authorization'],
      exposedHeaders: ['ETag', 'Location', 'X-Request-Id', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'WWW-Authenticate'],
      maxAge: 600,
    });
  }

  setUpOpenApi(app);
}

/**
 * Once shutdown has begun, requests still arriving (a stalled upload) must not hold the exit: they get
 * until two seconds before SHUTDOWN_TIMEOUT_MS (at most REQUEST_TIMEOUT_MS), then a 408. Requests
 * whose body has arrived are not affected: they finish.
 */
export function cutOffArrivingRequestsBeforeDeadline(app: NestFastifyApplication, config: Pick<AppConfig, 'requestTimeoutMs' | 'shutdownTimeoutMs' | 'shutdownDrainMs'>): void {
  const graceMs = Math.max(0, Math.min(config.requestTimeoutMs, config.shutdownTimeoutMs - config.shutdownDrainMs - 2_000));
  setTimeout(() => arrivingRequests.get(app)?.cutOff(), graceMs).unref();
}
