import type { components } from './generated/schema';

type Schemas = components['schemas'];

/** Every problem body the service documents: a union you narrow on `code` to reach its extension members. */
export type Problem = Schemas[Extract<keyof Schemas, `${string}Problem`>];

export type ProblemCode = Problem['code'];

/** The problem body of one code, e.g. `ProblemOf<'precondition-failed'>` with its `current_etag`. */
export type ProblemOf<C extends ProblemCode> = Extract<Problem, { code: C }>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** A response outside 2xx (and not a 304 the caller asked for). */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly response: Response,
    /** The parsed body (text when it was not JSON). */
    readonly body: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An RFC 9457 problem from the service, typed: narrow `problem` with {@link isProblem} or on `problem.code`. */
export class ProblemError<P extends Problem = Problem> extends RegistryError {
  constructor(
    readonly problem: P,
    response: Response,
  ) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`, problem.status, response, problem);
  }

  get code(): P['code'] {
    return this.problem.code;
  }

  /** The id to quote when reporting the problem (also in the X-Request-Id header). */
  get requestId(): string {
    return this.problem.request_id;
  }
}

/** Whether `error` is a problem from the service, of the given code(s) when any are given. */
export function isProblem<C extends ProblemCode>(error: unknown, ...codes: C[]): error is ProblemError<ProblemOf<C>> {
  return error instanceof ProblemError && (codes.length === 0 || (codes as string[]).includes(error.problem.code));
}

const looksLikeProblem = (body: unknown): body is Problem =>
  isObject(body) && typeof body.code === 'string' && typeof body.status === 'number' && typeof body.detail === 'string' && typeof body.type === 'string';

/** The error to throw for a response outside 2xx. */
export function errorFor(response: Response, body: unknown): RegistryError {
  if (looksLikeProblem(body)) return new ProblemError(body, response);
  return new RegistryError(`HTTP ${response.status} ${response.statusText}`.trim(), response.status, response, body);
}
