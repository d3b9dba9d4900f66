import { PROBLEM_TYPES, problemTypeUri, type ProblemCode } from './problem-types';
import type { FieldError } from './application.error';

/** An RFC 9457 problem details body, with our extension members (code, request_id, errors, …). */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ProblemCode;
  request_id: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function buildProblem(
  code: ProblemCode,
  detail: string,
  context: { instance: string; requestId: string },
  errors?: FieldError[],
  extensions?: object,
): ProblemDetails {
  const kind = PROBLEM_TYPES[code];
  return {
    ...extensions,
    type: problemTypeUri(code),
    title: kind.title,
    status: kind.status,
    detail,
    instance: context.instance,
    code,
    request_id: context.requestId,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}
