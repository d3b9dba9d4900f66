import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { RequestValidationError, type FieldError } from '../errors/application.error';
import { fastPathOf } from './fast-path';

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

/** Deeper JSON is refused before transformation (class-transformer recurses, and would overflow the stack). */
export const MAX_JSON_DEPTH = 64;

export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

export class DepthLimitedValidationPipe extends ValidationPipe {
  constructor(
    options: ConstructorParameters<typeof ValidationPipe>[0],
    private readonly fastPaths: boolean,
  ) {
    super(options);
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (this.fastPaths && value !== null && typeof value === 'object') {
      const parsed = fastPathOf(metadata.metatype)?.(value as Record<string, unknown>);
      if (parsed !== undefined) return parsed;
    }
    if (jsonDepthExceeds(value, MAX_JSON_DEPTH)) {
      throw new RequestValidationError([{ field: metadata.type === 'body' ? '(body)' : `(${metadata.type})`, message: `is nested more than ${MAX_JSON_DEPTH} levels deep` }]);
    }
    return super.transform(value, metadata);
  }
}

/**
 * The one validation pipe of the app: unknown properties are rejected, types are converted. DTOs with
 * a fast path (see fast-path.ts) take it when it accepts; `fastPaths: false` (tests) always goes through
 * class-validator.
 */
export function createValidationPipe({ fastPaths = true }: { fastPaths?: boolean } = {}): ValidationPipe {
  return new DepthLimitedValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false, exposeDefaultValues: true },
    validationError: { target: false, value: false },
    stopAtFirstError: false,
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  }, fastPaths);
}
