import type { SchemaObject } from '@nestjs/swagger';

/**
 * How each class-validator rule narrows the JSON Schema of the property it checks. The document takes
 * the constraints of every request body, query and path property from the validators the server runs,
 * so it can never be looser than the server (an integer documented as `number`, a slug without its
 * pattern). `null`: the rule has no JSON Schema equivalent, and the document stays looser on it.
 */
export type ValidatorSchema = (constraints: readonly unknown[]) => SchemaObject | null;

const regexPattern = (constraints: readonly unknown[]): SchemaObject => {
  const [pattern, modifiers] = constraints;
  if (!(pattern instanceof RegExp) || pattern.flags !== '' || (modifiers !== undefined && modifiers !== null && modifiers !== '')) {
    throw new Error(`@Matches with flags cannot be written as an OpenAPI pattern: ${String(pattern)}`);
  }
  return { pattern: pattern.source };
};

const SCHEMAS = new Map<string, ValidatorSchema>([
  ['isInt', () => ({ type: 'integer' })],
  ['isNumber', () => ({ type: 'number' })],
  ['isBoolean', () => ({ type: 'boolean' })],
  ['isString', () => ({ type: 'string' })],
  ['isArray', () => ({ type: 'array' })],
  ['isObject', () => ({ type: 'object' })],
  ['min', ([minimum]) => ({ minimum: minimum as number })],
  ['max', ([maximum]) => ({ maximum: maximum as number })],
  ['minLength', ([minLength]) => ({ minLength: minLength as number })],
  ['maxLength', ([maxLength]) => ({ maxLength: maxLength as number })],
  ['matches', regexPattern],
  ['isIn', ([values]) => ({ enum: [...(values as unknown[])] })],
  ['arrayMinSize', ([minItems]) => ({ minItems: minItems as number })],
  ['arrayMaxSize', ([maxItems]) => ({ maxItems: maxItems as number })],
  ['arrayUnique', () => ({ uniqueItems: true })],
  // "anything but this one value": the description says which value is reserved.
  ['notEquals', () => null],
]);

/** Declares the schema of a custom validator (next to the validator, so the two are written together). */
export function describeValidator(name: string, schema: ValidatorSchema): void {
  SCHEMAS.set(name, schema);
}

export function validatorSchema(name: string): ValidatorSchema | undefined {
  return SCHEMAS.get(name);
}
