import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApplicationError } from './application.error';
import { translateDatabaseError } from './database-errors';
import { buildProblem, PROBLEM_CONTENT_TYPE, type ProblemDetails } from './problem-details';
import { PROBLEM_TYPES, problemCodeForStatus, type ProblemCode } from './problem-types';

interface FastifyErrorLike {
  code?: string;
  statusCode?: number;
}

const mebibytes = (bytes: number) => `${Math.round((bytes / (1024 * 1024)) * 100) / 100} MiB`;

/** Fastify's own client errors that have no entry below: the status's generic wording, never the message (it may quote the input). */
function genericFastifyProblem(error: FastifyErrorLike | undefined): { code: ProblemCode; detail: string } | undefined {
  if (!error?.code?.startsWith('FST_') || !error.statusCode || error.statusCode < 400 || error.statusCode >= 500) return undefined;
  const code = problemCodeForStatus(error.statusCode);
  return { code, detail: `${PROBLEM_TYPES[code].title}: the request was refused before it reached the API.` };
}

const FASTIFY_ERRORS: Record<string, { code: ProblemCode; detail: (req: FastifyRequest) => string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported-media-type',
    detail: () => 'The Content-Type is not supported. Send the body as application/json.',
  },
  FST_ERR_CTP_INVALID_TYPE: {
    code: 'unsupported-media-type',
    detail: () => 'The Content-Type header is malformed. Send the body as application/json.',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'payload-too-large',
    detail: (req) => `The request body is larger than the ${mebibytes(req.routeOptions.bodyLimit)} limit.`,
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'malformed-request',
    detail: () => 'The body is empty but Content-Type is application/json. Send a JSON object.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: 'malformed-request',
    detail: () => 'The request body is not valid JSON.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'malformed-request',
    detail: () => 'The Content-Length header does not match the body.',
  },
  FST_ERR_BAD_URL: {
    code: 'bad-request',
    detail: () => 'The request URL is malformed.',
  },
};

/**
 * Renders every error as RFC 9457 application/problem+json. Known errors keep their status and a
 * detail written for the client; anything unexpected becomes a 500 whose body carries only the
 * request id, while the stack goes to the server log.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const problem = this.toProblem(exception, request);

    if (problem.status === 503) {
      // An outage makes every request fail the same way: one line each, no stack.
      this.logger.warn(
        { request_id: problem.request_id, method: request.method, route: request.routeOptions?.url ?? null, reason: this.reasonOf(exception) },
        problem.detail,
      );
    } else if (problem.status >= 500) {
      this.logger.error(
        { err: exception, request_id: problem.request_id, method: request.method, url: request.url },
        problem.code === 'internal-error' ? 'Unhandled error' : problem.detail,
      );
    }
    if (reply.sent) return;
    if (problem.status === 503) reply.header('retry-after', '5');
    void reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
  }

  private toProblem(exception: unknown, request: FastifyRequest): ProblemDetails {
    const context = { instance: (request.url ?? '/').split('?')[0], requestId: String(request.id ?? '') };

    if (exception instanceof ApplicationError) {
      return buildProblem(exception.code, exception.detail, context, exception.errors, exception.extensions);
    }

    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const cause = exception.cause as FastifyErrorLike | undefined;
      const fastifyError = cause?.code ? FASTIFY_ERRORS[cause.code] : undefined;
      if (fastifyError) return buildProblem(fastifyError.code, fastifyError.detail(request), context);
      const generic = genericFastifyProblem(cause);
      if (generic) return buildProblem(generic.code, generic.detail, context);
      if (cause instanceof SyntaxError) return buildProblem('malformed-request', 'The request body is not valid JSON.', context);
      if (exception instanceof NotFoundException && this.isRouteNotFound(exception)) {
        return buildProblem('route-not-found', `No route matches ${request.method} ${context.instance}.`, context);
      }
      const code = problemCodeForStatus(status);
      if (status >= 500) return buildProblem(code, 'The service could not handle the request.', context);
      return buildProblem(code, this.messageOf(exception) ?? 'The request could not be processed.', context);
    }

    const translated = translateDatabaseError(exception, request.method);
    if (translated) return buildProblem(translated.code, translated.detail, context, translated.errors, translated.extensions);

    const fastifyError = exception as FastifyErrorLike | undefined;
    if (fastifyError?.code && FASTIFY_ERRORS[fastifyError.code]) {
      const known = FASTIFY_ERRORS[fastifyError.code];
      return buildProblem(known.code, known.detail(request), context);
    }
    const generic = genericFastifyProblem(fastifyError);
    if (generic) return buildProblem(generic.code, generic.detail, context);

    return buildProblem(
      'internal-error',
      `An unexpected error occurred. Quote request id ${context.requestId} when reporting it.`,
      context,
    );
  }

  /** A short reason for the log (a driver code or message), without the stack. */
  private reasonOf(exception: unknown): string {
    if (exception instanceof ApplicationError) return exception.detail;
    const fields = exception as { code?: unknown; message?: unknown } | undefined;
    const code = typeof fields?.code === 'string' ? fields.code : undefined;
    const message = typeof fields?.message === 'string' ? fields.message.slice(0, 200) : String(exception);
    return code ? `${code}: ${message}` : message;
  }

  /** Nest's own not-found handler (no route matched) throws `Cannot <METHOD> <url>`. */
  private isRouteNotFound(exception: NotFoundException): boolean {
    return /^Cannot [A-Z]+ /.test(exception.message);
  }

  private messageOf(exception: HttpException): string | undefined {
    const response = exception.getResponse();
    if (typeof response === 'string') return response;
    const message = (response as { message?: unknown }).message;
    if (typeof message === 'string') return message;
    if (Array.isArray(message)) return message.filter((m) => typeof m === 'string').join('; ');
    return undefined;
  }
}
