import type { ConflictExtensions, ProblemExtensions, ServiceUnavailableExtensions } from './problem-extensions';
import { PROBLEM_TYPES, type ProblemCode } from './problem-types';

export interface FieldError {
  /** Dotted path of the offending field, e.g. `config.temperature` or `samples[2].latency_ms`. */
  field: string;
  message: string;
}

/**
 * An error the API reports to its client on purpose. Features throw subclasses; the problem+json
 * filter renders them. Anything that is not an ApplicationError (or an HttpException) is a bug and
 * becomes a generic 500.
 */
export class ApplicationError<C extends ProblemCode = ProblemCode> extends Error {
  constructor(
    readonly code: C,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Extra members for the problem body, as declared for the code in PROBLEM_EXTENSIONS (the OpenAPI document lists them). */
    readonly extensions?: ProblemExtensions<C>,
  ) {
    super(detail);
    this.name = new.target.name;
  }

  get status(): number {
    return PROBLEM_TYPES[this.code].status;
  }
}

export class RequestValidationError extends ApplicationError<'validation-error'> {
  constructor(errors: FieldError[], detail?: string) {
    super(
      'validation-error',
      detail ?? (errors.length === 1 ? `${errors[0].field}: ${errors[0].message}` : `${errors.length} fields are invalid.`),
      errors,
    );
  }
}

export class ResourceNotFoundError extends ApplicationError<'not-found'> {
  constructor(resource: string, key: string | number, by = 'id') {
    super('not-found', `No ${resource} with ${by} ${JSON.stringify(key)} exists.`, undefined, { resource });
  }
}

export class ConflictError extends ApplicationError<'conflict'> {
  constructor(detail: string, field?: string, extensions?: ConflictExtensions) {
    super('conflict', detail, field ? [{ field, message: detail }] : undefined, extensions);
  }
}

export class PreconditionFailedError extends ApplicationError<'precondition-failed'> {
  constructor(currentEtag: string) {
    super(
      'precondition-failed',
      'The resource was modified since you read it (If-Match does not match its current ETag). Read it again and retry.',
      undefined,
      { current_etag: currentEtag },
    );
  }
}

export class ServiceUnavailableError extends ApplicationError<'service-unavailable'> {
  constructor(detail: string, extensions?: ServiceUnavailableExtensions) {
    super('service-unavailable', detail, undefined, extensions);
  }
}
