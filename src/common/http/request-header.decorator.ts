import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

const headerValue = createParamDecorator((name: string, context: ExecutionContext): string | undefined => {
  const value = context.switchToHttp().getRequest<FastifyRequest>().headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
});

/**
 * An optional request header a handler reads (e.g. `@RequestHeader('Last-Event-ID', '…') lastEventId?: string`),
 * documented once under its canonical name. `@Headers('x')` would document it as required and in lower case.
 */
export function RequestHeader(name: string, description: string): ParameterDecorator {
  return (target, key, index) => {
    headerValue(name.toLowerCase())(target, key, index);
    if (key === undefined) return;
    const method = (target as Record<string | symbol, object>)[key];
    ApiHeader({ name, description, required: false, schema: { type: 'string' } })(target, key, { value: method } as PropertyDescriptor);
  };
}
