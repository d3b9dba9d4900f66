import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { problemResponse } from './problem-schemas';

/**
 * Documents the error statuses particular to an operation as application/problem+json (each with the
 * schemas of the problem codes it can carry). Statuses every operation shares are added by the
 * document itself: 500 and 503 everywhere, 401 and 403 unless the route is `@Public()`, 412 where
 * `@IfMatch()` is used.
 */
export function ApiProblemResponses(...statuses: number[]) {
  return applyDecorators(...[...new Set(statuses)].map((status) => ApiResponse({ status, ...problemResponse(status) })));
}
