import type { OpenAPIObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { PROBLEM_EXTENSIONS } from '../errors/problem-extensions';
import { PROBLEM_TYPES, problemTypeUri, ROUTE_LEVEL_PROBLEMS, type ProblemCode } from '../errors/problem-types';
import { ProblemDetailsDto } from './problem-details.dto';

/**
 * Problem responses in the document: one schema per problem code (`ConflictProblem`,
 * `PreconditionFailedProblem`, …) with `code`, `type` and `status` fixed to that code's values and its
 * extension members listed, so a generated client gets a union it can narrow on `code`.
 */

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (validation-error, malformed-request, constraint-violation or bad-request)',
  401: 'Missing or invalid credentials',
  403: 'The credentials do not allow this operation',
  404: 'Resource not found',
  409: 'Conflict with the current state',
  410: 'The cursor points before pruned events (cursor-expired)',
  412: 'If-Match does not match the current ETag',
  413: 'Body larger than the limit (1 MiB; 5 MiB for the catalog import)',
  415: 'Body is not application/json',
  429: 'Too many requests: retry after Retry-After seconds',
  500: 'Unexpected error (body carries the request id only)',
  503: 'Database unavailable or instance not ready: retry after Retry-After seconds',
};

const pascal = (code: string) => code.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());

export const problemSchemaName = (code: ProblemCode) => `${pascal(code)}Problem`;

const schemaRef = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });

/** The problem codes an operation can answer with this status. */
export function operationProblemCodes(status: number): ProblemCode[] {
  return (Object.keys(PROBLEM_TYPES) as ProblemCode[]).filter((code) => PROBLEM_TYPES[code].status === status && !ROUTE_LEVEL_PROBLEMS.has(code));
}

/** The response object of an operation's error status: problem+json, one schema per possible code. */
export function problemResponse(status: number): ResponseObject {
  const codes = operationProblemCodes(status);
  if (codes.length === 0) throw new Error(`No problem type has HTTP status ${status}: add one to PROBLEM_TYPES first.`);
  const schema: SchemaObject | ReferenceObject =
    codes.length === 1
      ? schemaRef(problemSchemaName(codes[0]))
      : {
          oneOf: codes.map((code) => schemaRef(problemSchemaName(code))),
          discriminator: { propertyName: 'code', mapping: Object.fromEntries(codes.map((code) => [code, schemaRef(problemSchemaName(code)).$ref])) },
        };
  return { description: DESCRIPTIONS[status] ?? PROBLEM_TYPES[codes[0]].title, content: { [PROBLEM_MEDIA_TYPE]: { schema } } };
}

/** Classes whose schemas @nestjs/swagger must render for {@link declareProblemSchemas} to compose. */
export const PROBLEM_MODELS = [ProblemDetailsDto, ...Object.values(PROBLEM_EXTENSIONS)];

/**
 * Replaces the rendered base and extension schemas with one schema per problem code that some
 * operation references. Call after every operation-level response is in place.
 */
export function declareProblemSchemas(document: OpenAPIObject): void {
  const schemas = document.components!.schemas as Record<string, SchemaObject>;
  const base = schemas[ProblemDetailsDto.name];
  const used = new Set(JSON.stringify([document.paths, document.components!.responses]).match(/#\/components\/schemas\/[A-Za-z]+Problem\b/g)?.map((ref) => ref.split('/').pop()!));
  for (const code of Object.keys(PROBLEM_TYPES) as ProblemCode[]) {
    const name = problemSchemaName(code);
    if (!used.has(name)) continue;
    const kind = PROBLEM_TYPES[code];
    const extensionClass = (PROBLEM_EXTENSIONS as Partial<Record<ProblemCode, { name: string }>>)[code];
    const extension = extensionClass ? schemas[extensionClass.name] : undefined;
    const fixed = (property: string, value: string | number): SchemaObject => ({ ...(base.properties![property] as SchemaObject), enum: [value], example: value });
    schemas[name] = {
      type: 'object',
      title: kind.title,
      description: `${kind.description} (problem type \`${problemTypeUri(code)}\`)`,
      properties: {
        ...base.properties,
        type: fixed('type', problemTypeUri(code)),
        title: { ...(base.properties!.title as SchemaObject), example: kind.title },
        status: fixed('status', kind.status),
        code: fixed('code', code),
        ...extension?.properties,
      },
      required: [...(base.required ?? []), ...(extension?.required ?? [])],
    };
  }
  for (const model of PROBLEM_MODELS) delete schemas[model.name];
}
