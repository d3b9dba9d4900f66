import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_TYPES, problemCodeForStatus } from '../errors/problem-types';
import { ProblemDetailsDto } from './problem-details.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (validation-error, malformed-request or constraint-violation)',
  401: 'Credentials missing or invalid (`WWW-Authenticate: Bearer`)',
  403: 'A scope is missing (`required_scopes`), or the key is restricted to other models',
  404: 'Resource not found',
  409: 'Conflict with the current state',
  412: 'If-Match does not match the current ETag',
  413: 'Body larger than 1 MiB',
  415: 'Body is not application/json',
  429: 'Rate limit exceeded: retry after `Retry-After` seconds (`RateLimit-*` headers)',
  500: 'Unexpected error (body carries the request id only)',
  503: 'Database unavailable or instance not ready',
};

/**
 * Documents error responses as application/problem+json. 400 and 500 are added to every operation
 * that takes input; list the others an operation can return.
 */
export function ApiProblemResponses(...statuses: number[]) {
  const all = [...new Set([...statuses, 500])].sort();
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ...all.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? PROBLEM_TYPES[problemCodeForStatus(status)].title,
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDto) } } },
      }),
    ),
  );
}
