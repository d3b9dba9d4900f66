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
  /** The same message for the same field is listed once (several constraints can say the same thing). */
  constructor(errors: FieldError[], detail?: string) {
    const unique = errors.filter((error, i) => errors.findIndex((other) => other.field === error.field && other.message === error.message) === i);
    super('validation-error', detail ?? validationSummary(unique), unique);
  }
}

/** `field: message` (or its messages) when one field is wrong; otherwise how many fields are. */
function validationSummary(errors: FieldError[]): string {
  const fields = new Set(errors.map((error) => error.field));
  if (fields.size === 1) return `${errors[0].field}: ${errors.map((error) => error.message).join('; ')}`;
  return `${fields.size} fields are invalid.`;
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
