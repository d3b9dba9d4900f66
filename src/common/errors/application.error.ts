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
export class ApplicationError extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Extra members for the problem body (snake_case), e.g. `{ existing_id: 4 }`. */
    readonly extensions?: Record<string, unknown>,
  ) {
    super(detail);
    this.name = new.target.name;
  }

  get status(): number {
    return PROBLEM_TYPES[this.code].status;
  }
}

export class RequestValidationError extends ApplicationError {
  constructor(errors: FieldError[], detail?: string) {
    super(
      'validation-error',
      detail ?? (errors.length === 1 ? `${errors[0].field}: ${errors[0].message}` : `${errors.length} fields are invalid.`),
      errors,
    );
  }
}

export class ResourceNotFoundError extends ApplicationError {
  constructor(resource: string, key: string | number, by = 'id') {
    super('not-found', `No ${resource} with ${by} ${JSON.stringify(key)} exists.`, undefined, { resource });
  }
}

export class ConflictError extends ApplicationError {
  constructor(detail: string, field?: string, extensions?: Record<string, unknown>) {
    super('conflict', detail, field ? [{ field, message: detail }] : undefined, extensions);
  }
}

export class PreconditionFailedError extends ApplicationError {
  constructor(currentEtag: string) {
    super(
      'precondition-failed',
      'The resource was modified since you read it (If-Match does not match its current ETag). Read it again and retry.',
      undefined,
      { current_etag: currentEtag },
    );
  }
}

export class ServiceUnavailableError extends ApplicationError {
  constructor(detail: string, extensions?: Record<string, unknown>) {
    super('service-unavailable', detail, undefined, extensions);
  }
}
