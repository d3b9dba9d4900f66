import { RequestValidationError, type FieldError } from '../errors/application.error';

/**
 * Identity fields may be echoed back in an update (clients often PUT what they read) but never
 * changed: any that differs from the stored value is a 400 naming it.
 */
export function assertImmutableUnchanged(sent: Record<string, unknown>, current: Record<string, unknown>): void {
  const errors: FieldError[] = Object.entries(sent)
    .filter(([field, value]) => value !== undefined && value !== current[field])
    .map(([field]) => ({ field, message: `is immutable and cannot be changed (current value: ${JSON.stringify(current[field])})` }));
  if (errors.length > 0) throw new RequestValidationError(errors);
}
