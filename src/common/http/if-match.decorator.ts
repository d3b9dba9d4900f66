import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Metadata key set on a handler that reads If-Match: the OpenAPI document gives it the header and a 412. */
export const IF_MATCH_ROUTE = 'model-registry:if-match';

const ifMatchHeader = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string | undefined => context.switchToHttp().getRequest<FastifyRequest>().headers['if-match'],
);

/**
 * The request's If-Match header (undefined when absent), for a write guarded by optimistic
 * concurrency. Unlike `@Headers('if-match')` it documents the header once, as optional, and marks the
 * operation so that the document lists its 412 response.
 */
export function IfMatch(): ParameterDecorator {
  return (target, key, index) => {
    ifMatchHeader()(target, key, index);
    if (key !== undefined) Reflect.defineMetadata(IF_MATCH_ROUTE, true, (target as Record<string | symbol, object>)[key]);
  };
}
