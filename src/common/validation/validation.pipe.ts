import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { RequestValidationError, type FieldError } from '../errors/application.error';

/**
 * Flattens class-validator's tree into one entry per offending field with a dotted path
 * (`config.x`, `samples[3].latency_ms`). Messages drop the property name class-validator prefixes,
 * since `field` already carries it.
 */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const flat: FieldError[] = [];
  for (const error of errors) {
    const isIndex = /^\d+$/.test(error.property);
    const field = parent === '' ? error.property : isIndex ? `${parent}[${error.property}]` : `${parent}.${error.property}`;
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      flat.push({ field, message: constraint === 'whitelistValidation' ? 'is not a known property' : stripProperty(message, error.property) });
    }
    if (error.children && error.children.length > 0) flat.push(...flattenValidationErrors(error.children, field));
  }
  return flat;
}

function stripProperty(message: string, property: string): string {
  return message.startsWith(`${property} `) ? message.slice(property.length + 1) : message;
}

/** The one validation pipe of the app: unknown properties are rejected, types are converted. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false, exposeDefaultValues: true },
    validationError: { target: false, value: false },
    stopAtFirstError: false,
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
