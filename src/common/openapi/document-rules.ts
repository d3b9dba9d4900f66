import { isDeepStrictEqual } from 'node:util';
import type { Type } from '@nestjs/common';
import { DECORATORS, type OpenAPIObject, type OperationObject, type ParameterObject, type ReferenceObject, type ResponseObject, type SchemaObject } from '@nestjs/swagger';
import { getMetadataStorage } from 'class-validator';
import { RATE_LIMIT_EXEMPT_PATH } from '../auth/access.decorator';
import { declareProblemSchemas, PROBLEM_MEDIA_TYPE, problemResponse } from './problem-schemas';
import type { RouteFacts } from './route-catalogue';
import { addStandardComponents, headerRef, parameterRef, responseRef } from './standard-components';
import { validatorSchema } from './validator-schemas';

/**
 * The rules that turn what @nestjs/swagger renders into the published contract. Each kind of fact is
 * stated once — by a decorator that also drives the runtime (`@Etag()`, `@IfMatch()`, `@Public()`), by
 * the validators, or by a rule here that holds for every operation — and applied to every route, so a
 * new route is documented correctly by the same decorators that make it behave.
 */

export interface DocumentedOperation {
  path: string;
  method: string;
  operation: OperationObject;
  route?: RouteFacts;
}

export const BEARER_SCHEME = 'bearerAuth';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const isRef = (value: unknown): value is ReferenceObject => typeof value === 'object' && value !== null && '$ref' in value;

export function operationsOf(document: OpenAPIObject, routes: RouteFacts[] = []): DocumentedOperation[] {
  const byOperationId = new Map(routes.filter((route) => route.operationId).map((route) => [route.operationId, route]));
  const byFallbackId = new Map(routes.map((route) => [route.handler.replace('.', '_'), route]));
  return Object.entries(document.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((method) => item[method]).map((method) => {
      const operation = item[method]!;
      const id = operation.operationId ?? '';
      return { path, method, operation, route: byOperationId.get(id) ?? byFallbackId.get(id) };
    }),
  );
}

/** Applies every rule, then checks the invariants; throws listing every violation. */
export function refineDocument(document: OpenAPIObject, routes: RouteFacts[]): OpenAPIObject {
  document.components ??= {};
  document.components.schemas ??= {};
  const operations = operationsOf(document, routes);
  constrainInputsByValidators(document, operations);
  closeRequestBodies(document, operations);
  commaSeparateQueryArrays(operations);
  applyConditionalRequests(operations);
  applyAccess(document, operations);
  applyOperationWideResponses(operations);
  applyStandardHeaders(operations);
  shareErrorResponses(document, operations);
  addStandardComponents(document);
  declareProblemSchemas(document);
  inlineNullableReferences(document);
  allowNullInNullableEnums(document);
  dropDtoSuffixes(document);
  sortDocument(document);
  assertDocumentInvariants(document, routes);
  return document;
}

// ---- Inputs: constraints from the validators, closed request bodies, defaults ---------------------

type ModelProperties = Record<string, { type?: unknown; isArray?: boolean }>;
type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

/** Classes a DTO nests (by its @ApiProperty types), itself included. */
function nestedClasses(root: Type, seen = new Set<Type>()): Set<Type> {
  if (seen.has(root)) return seen;
  seen.add(root);
  const names = (Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES_ARRAY, root.prototype) ?? []) as string[];
  for (const name of names) {
    const property = Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, root.prototype, name.slice(1)) as ModelProperties[string] | undefined;
    let type = property?.type;
    if (typeof type === 'function' && !type.prototype && type.length === 0) type = (type as () => unknown)();
    if (typeof type === 'function' && (type as Type).prototype && ![String, Number, Boolean, Object, Array, Date].includes(type as never)) nestedClasses(type as Type, seen);
  }
  return seen;
}

function validationsByProperty(dto: Type): Map<string, ValidationMetadata[]> {
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const meta of getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false)) {
    byProperty.set(meta.propertyName, [...(byProperty.get(meta.propertyName) ?? []), meta]);
  }
  return byProperty;
}

const sameValue = (a: unknown, b: unknown) =>
  Array.isArray(a) && Array.isArray(b) ? a.length === b.length && a.every((value) => b.includes(value)) : isDeepStrictEqual(a, b);

/** Writes `derived` into `schema`; a different value already there is a contradiction between the decorators and the validators. */
function mergeConstraints(schema: SchemaObject, derived: SchemaObject, where: string, errors: string[]): void {
  for (const [key, value] of Object.entries(derived) as [keyof SchemaObject, unknown][]) {
    const current = schema[key];
    if (current === undefined || sameValue(current, value)) (schema as Record<string, unknown>)[key] = value;
    else if (key === 'type' && current === 'number' && value === 'integer') schema.type = 'integer';
    else if (key === 'type' && current === 'integer' && value === 'number') continue;
    else errors.push(`${where}: @ApiProperty says ${key}=${JSON.stringify(current)} but the validator enforces ${JSON.stringify(value)}`);
  }
}

function constrainProperty(schema: SchemaObject | ReferenceObject, validations: ValidationMetadata[], where: string, errors: string[]): void {
  for (const meta of validations) {
    if (meta.type !== 'customValidation') continue;
    const describe = validatorSchema(meta.name ?? '');
    if (!describe) {
      errors.push(`${where}: validator "${meta.name}" has no schema: declare one with describeValidator() next to it`);
      continue;
    }
    const derived = describe(meta.constraints ?? []);
    if (!derived) continue;
    const target = meta.each ? (schema as SchemaObject).items : schema;
    if (!target || isRef(target)) {
      if (Object.keys(derived).some((key) => key !== 'type')) errors.push(`${where}: validator "${meta.name}" applies to a $ref schema`);
      continue;
    }
    mergeConstraints(target, derived, where, errors);
  }
}

function requestBodyClasses(operations: DocumentedOperation[]): Map<Type, Set<string>> {
  const classes = new Map<Type, Set<string>>();
  for (const { route } of operations) {
    if (!route?.body) continue;
    for (const dto of nestedClasses(route.body)) classes.set(dto, new Set([...(classes.get(dto) ?? []), route.method]));
  }
  return classes;
}

export function constrainInputsByValidators(document: OpenAPIObject, operations: DocumentedOperation[]): void {
  const errors: string[] = [];
  const schemas = document.components!.schemas as Record<string, SchemaObject>;
  for (const dto of requestBodyClasses(operations).keys()) {
    const schema = schemas[dto.name];
    if (!schema) {
      errors.push(`${dto.name}: request body class without a schema`);
      continue;
    }
    for (const [property, validations] of validationsByProperty(dto)) {
      const target = schema.properties?.[property];
      if (target) constrainProperty(target, validations, `${dto.name}.${property}`, errors);
    }
  }
  for (const { operation, route } of operations) {
    for (const [input, location] of [['query', 'query'], ['params', 'path']] as const) {
      const dto = route?.[input];
      if (!dto) continue;
      for (const [property, validations] of validationsByProperty(dto)) {
        const parameter = (operation.parameters ?? []).find((p): p is ParameterObject => !isRef(p) && p.in === location && p.name === property);
        if (parameter?.schema) constrainProperty(parameter.schema, validations, `${operation.operationId} ${location} ${property}`, errors);
      }
    }
  }
  if (errors.length > 0) throw new Error(`The OpenAPI document contradicts the validators:\n- ${errors.join('\n- ')}`);
}

const describeDefault = (value: unknown) => `Default: \`${typeof value === 'string' ? value : JSON.stringify(value)}\`.`;

/**
 * Request bodies are closed (the validation pipe rejects unknown properties). A server-side default
 * is not a JSON Schema `default` on a request: generators (openapi-typescript) would make the field
 * required. On a create it moves into the description; a partial update (PUT, PATCH) applies no
 * default — an omitted field stays as it is — so there it is dropped.
 */
export function closeRequestBodies(document: OpenAPIObject, operations: DocumentedOperation[]): void {
  const schemas = document.components!.schemas as Record<string, SchemaObject>;
  for (const [dto, methods] of requestBodyClasses(operations)) {
    const schema = schemas[dto.name];
    if (!schema?.properties) continue;
    schema.additionalProperties ??= false;
    const creates = [...methods].some((method) => method !== 'PUT' && method !== 'PATCH');
    for (const property of Object.values(schema.properties)) {
      if (isRef(property) || property.default === undefined) continue;
      if (creates) property.description = [property.description, describeDefault(property.default)].filter(Boolean).join(' ');
      delete property.default;
    }
  }
}

/**
 * A list in a query string is one comma-separated value (`capability=tools,vision`), which is how the
 * server reads it (it also accepts the parameter repeated): `style: form, explode: false` makes
 * generated clients send it that way.
 */
export function commaSeparateQueryArrays(operations: DocumentedOperation[]): void {
  for (const { operation } of operations) {
    for (const parameter of operation.parameters ?? []) {
      if (isRef(parameter) || parameter.in !== 'query' || !parameter.schema || isRef(parameter.schema) || parameter.schema.type !== 'array') continue;
      parameter.style = 'form';
      parameter.explode = false;
    }
  }
}

// ---- Behaviour the runtime decorators switch on ----------------------------------------------------

const isSuccess = (status: string) => /^2\d\d$/.test(status);

function addParameter(operation: OperationObject, reference: ReferenceObject): void {
  operation.parameters = [...(operation.parameters ?? []), reference];
}

/** `@Etag()`: ETag on every 2xx with a body; on a GET, If-None-Match and 304. `@IfMatch()`: the header and 412. */
export function applyConditionalRequests(operations: DocumentedOperation[]): void {
  for (const { method, operation, route } of operations) {
    if (route?.etag) {
      for (const [status, response] of Object.entries(operation.responses) as [string, ResponseObject | ReferenceObject][]) {
        if (isSuccess(status) && !isRef(response) && response.content) response.headers = { ...response.headers, ETag: headerRef('ETag') };
      }
      if (method === 'get') {
        addParameter(operation, parameterRef('IfNoneMatch'));
        operation.responses['304'] = responseRef('NotModified');
      }
    }
    if (route?.ifMatch) {
      addParameter(operation, parameterRef('IfMatch'));
      operation.responses['412'] = problemResponse(412);
    }
  }
}

/**
 * Every operation needs a bearer token unless its route is `@Public()`; those that need one can
 * answer 401 and 403.
 */
export function applyAccess(document: OpenAPIObject, operations: DocumentedOperation[]): void {
  document.components!.securitySchemes = {
    ...document.components!.securitySchemes,
    [BEARER_SCHEME]: {
      type: 'http',
      scheme: 'bearer',
      description:
        'An API key (`mrk_…`, from POST /api-keys), an OIDC token from the configured issuer, or AUTH_BOOTSTRAP_KEY, sent as `Authorization: Bearer <token>`. ' +
        'The scopes an operation needs are in its `x-required-scopes`. Probes and the problem type documentation are open; /metrics is open unless METRICS_TOKEN is set.',
    },
  };
  document.security = [{ [BEARER_SCHEME]: [] }];
  for (const { path, operation, route } of operations) {
    const access = route?.access;
    if (!access) continue;
    if (!RATE_LIMIT_EXEMPT_PATH.test(path)) operation.responses['429'] ??= problemResponse(429);
    if (access.kind === 'public') {
      operation.security = [];
      continue;
    }
    // /metrics: open, or with the METRICS_TOKEN when one is set.
    if (access.kind === 'metrics') operation.security = [{}, { [BEARER_SCHEME]: [] }];
    if (access.kind === 'scope') (operation as OperationObject & { 'x-required-scopes'?: string[] })['x-required-scopes'] = [...access.anyOf];
    const statuses = access.kind === 'authenticated' ? [401] : AUTHENTICATED_PROBLEMS;
    for (const status of statuses) operation.responses[status] ??= problemResponse(status);
  }
}

/** What every operation that needs credentials can answer (a rate limit's 429 belongs here too). */
export const AUTHENTICATED_PROBLEMS = [401, 403];

/** What any operation can answer: 500 anywhere; 503 when the database is unreachable or the instance is shutting down. */
export const OPERATION_WIDE_PROBLEMS = [500, 503];

export function applyOperationWideResponses(operations: DocumentedOperation[]): void {
  for (const { operation } of operations) {
    for (const status of OPERATION_WIDE_PROBLEMS) operation.responses[status] ??= problemResponse(status);
  }
}

/** X-Request-Id on every response, Retry-After on 429 and 503, Location on every 201. */
export function applyStandardHeaders(operations: DocumentedOperation[]): void {
  for (const { operation } of operations) {
    for (const [status, response] of Object.entries(operation.responses) as [string, ResponseObject | ReferenceObject][]) {
      if (isRef(response)) continue;
      response.headers = {
        ...(status === '201' ? { Location: headerRef('Location') } : {}),
        ...response.headers,
        ...(status === '429' || status === '503' ? { 'Retry-After': headerRef('Retry-After') } : {}),
        ...(status === '429' ? { 'RateLimit-Limit': headerRef('RateLimit-Limit'), 'RateLimit-Remaining': headerRef('RateLimit-Remaining'), 'RateLimit-Reset': headerRef('RateLimit-Reset') } : {}),
        ...(status === '401' ? { 'WWW-Authenticate': headerRef('WWW-Authenticate') } : {}),
        'X-Request-Id': headerRef('X-Request-Id'),
      };
    }
  }
}

const RESPONSE_NAMES: Record<string, string> = {
  '400': 'BadRequest',
  '401': 'Unauthorized',
  '403': 'Forbidden',
  '404': 'NotFound',
  '409': 'Conflict',
  '410': 'Gone',
  '412': 'PreconditionFailed',
  '413': 'PayloadTooLarge',
  '415': 'UnsupportedMediaType',
  '429': 'TooManyRequests',
  '500': 'InternalError',
  '503': 'ServiceUnavailable',
};

/** Error responses are the same on every operation: each is written once, in components.responses. */
export function shareErrorResponses(document: OpenAPIObject, operations: DocumentedOperation[]): void {
  const shared = (document.components!.responses ??= {}) as Record<string, ResponseObject>;
  for (const { operation } of operations) {
    for (const [status, response] of Object.entries(operation.responses) as [string, ResponseObject | ReferenceObject][]) {
      const name = RESPONSE_NAMES[status];
      if (!name || isRef(response)) continue;
      shared[name] ??= response;
      // An operation that describes its error differently keeps its own response.
      if (JSON.stringify(shared[name]) === JSON.stringify(response)) operation.responses[status] = { $ref: `#/components/responses/${name}` };
    }
  }
}

/**
 * A nullable property whose type is another schema (`pricing: PricingResponse | null`) is written by
 * Nest as `nullable` beside `allOf: [$ref]`. Under OpenAPI 3.0's rules `nullable` does not reach into
 * `allOf`, so a strict validator (a validating proxy) rejects the null the server sends. The referenced
 * schema is copied in place instead: one object schema that is itself nullable.
 */
export function inlineNullableReferences(document: OpenAPIObject): void {
  const schemas = document.components!.schemas as Record<string, SchemaObject>;
  const inlined = new Set<string>();
  const visit = (schema: SchemaObject, where: string) => {
    const only = schema.allOf?.length === 1 ? schema.allOf[0] : undefined;
    if (!schema.nullable || !only || !isRef(only)) return;
    const name = only.$ref.split('/').pop()!;
    if (!schemas[name]) throw new Error(`${where}: ${only.$ref} is not a schema of the document`);
    const copy = structuredClone(schemas[name]);
    delete schema.allOf;
    Object.assign(schema, { ...copy, description: schema.description ?? copy.description, nullable: true });
    inlined.add(name);
  };
  for (const [name, schema] of Object.entries(schemas)) walkSchemas(schema, name, visit);
  // A schema that was only ever used as a nullable property has no references left.
  const refs = new Set<string>();
  collectRefs(document, refs);
  for (const name of inlined) if (!refs.has(`#/components/schemas/${name}`)) delete schemas[name];
}

/** A nullable enum must list null among its values, or validators reject the null it allows. */
export function allowNullInNullableEnums(document: OpenAPIObject): void {
  const visit = (schema: SchemaObject) => {
    if (schema.nullable && schema.enum && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
  };
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) walkSchemas(schema, name, visit);
  for (const { operation } of operationsOf(document)) {
    for (const parameter of operation.parameters ?? []) if (!isRef(parameter)) walkSchemas(parameter.schema, '', visit);
  }
}

// ---- Names and order --------------------------------------------------------------------------------

function rewriteRefs(node: unknown, renames: Map<string, string>): void {
  if (Array.isArray(node)) {
    for (const item of node) rewriteRefs(item, renames);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (typeof value === 'string' && value.startsWith('#/components/schemas/') && renames.has(value)) (node as Record<string, unknown>)[key] = renames.get(value);
    else rewriteRefs(value, renames);
  }
}

/** `CreateModelDto` is a server class; SDKs get `CreateModel`. */
export function dropDtoSuffixes(document: OpenAPIObject): void {
  const schemas = document.components!.schemas!;
  const renames = new Map<string, string>();
  for (const name of Object.keys(schemas)) {
    if (!/.Dto$/.test(name)) continue;
    const renamed = name.slice(0, -3);
    if (schemas[renamed]) throw new Error(`Schema ${name} cannot be published as ${renamed}: that name is taken`);
    schemas[renamed] = schemas[name];
    delete schemas[name];
    renames.set(`#/components/schemas/${name}`, `#/components/schemas/${renamed}`);
  }
  rewriteRefs(document, renames);
}

const sortedObject = <T>(object: Record<string, T>, compare?: (a: string, b: string) => number): Record<string, T> =>
  Object.fromEntries(Object.entries(object).sort(([a], [b]) => (compare ? compare(a, b) : a < b ? -1 : a > b ? 1 : 0)));

/** A stable order, so that the committed document changes only where the API does. */
export function sortDocument(document: OpenAPIObject): void {
  document.paths = sortedObject(document.paths);
  for (const item of Object.values(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      operation.responses = sortedObject(operation.responses, (a, b) => a.localeCompare(b, 'en', { numeric: true }));
      if (operation.parameters?.length === 0) delete operation.parameters;
    }
  }
  const components = document.components!;
  for (const key of Object.keys(components) as (keyof typeof components)[]) {
    components[key] = sortedObject(components[key] as Record<string, unknown>) as never;
  }
}

// ---- Invariants ---------------------------------------------------------------------------------------

function walkSchemas(node: unknown, where: string, visit: (schema: SchemaObject, where: string) => void): void {
  if (typeof node !== 'object' || node === null || isRef(node)) return;
  const schema = node as SchemaObject;
  visit(schema, where);
  for (const [key, child] of Object.entries(schema.properties ?? {})) walkSchemas(child, `${where}.${key}`, visit);
  if (schema.items) walkSchemas(schema.items, `${where}[]`, visit);
  if (typeof schema.additionalProperties === 'object') walkSchemas(schema.additionalProperties, `${where}{}`, visit);
  for (const list of [schema.oneOf, schema.anyOf, schema.allOf]) list?.forEach((child, i) => walkSchemas(child, `${where}|${i}`, visit));
}

/** Schemas a generator cannot type: an object with no members (a `string | null` without `type: String`, a bare `object` item). */
function checkSchemaTyped(schema: SchemaObject, where: string, errors: string[]): void {
  const composed = schema.oneOf ?? schema.anyOf ?? schema.allOf;
  if (!schema.type && !composed && !schema.enum) errors.push(`${where}: schema has no type`);
  if (schema.type === 'object' && !schema.properties && schema.additionalProperties === undefined && !composed) {
    errors.push(`${where}: an object with no properties (give @ApiProperty an explicit type, e.g. type: String for string | null)`);
  }
  if (schema.type === 'array' && !schema.items) errors.push(`${where}: an array without items`);
}

function collectRefs(node: unknown, refs: Set<string>): void {
  if (Array.isArray(node)) node.forEach((item) => collectRefs(item, refs));
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') refs.add(value);
      else collectRefs(value, refs);
    }
  }
}

/** Every operation declared in full; nothing a generator would have to work around. */
export function assertDocumentInvariants(document: OpenAPIObject, routes: RouteFacts[]): void {
  const errors: string[] = [];
  const operations = operationsOf(document, routes);
  const declaredTags = new Set((document.tags ?? []).map((tag) => tag.name));
  const usedTags = new Set<string>();
  const ids = new Map<string, string>();
  for (const { path, method, operation, route } of operations) {
    const where = `${method.toUpperCase()} ${path}`;
    if (!route?.operationId) errors.push(`${where}: no operationId in @ApiOperation`);
    else if (!/^[a-z][A-Za-z0-9]*$/.test(route.operationId)) errors.push(`${where}: operationId ${route.operationId} is not camelCase`);
    const id = operation.operationId ?? '';
    if (ids.has(id)) errors.push(`${where}: operationId ${id} also names ${ids.get(id)}`);
    ids.set(id, where);
    if (!route?.access) errors.push(`${where}: declares no access (@Public(), @RequireScope(…), @Authenticated() or @MetricsAccess())`);
    if (!operation.summary?.trim()) errors.push(`${where}: no summary`);
    if (!operation.description?.trim()) errors.push(`${where}: no description`);
    if (!operation.tags?.length) errors.push(`${where}: no tag`);
    for (const tag of operation.tags ?? []) {
      usedTags.add(tag);
      if (!declaredTags.has(tag)) errors.push(`${where}: tag ${tag} is not declared in the document's tags`);
    }
    const seen = new Set<string>();
    for (const parameter of operation.parameters ?? []) {
      const resolved = isRef(parameter) ? (document.components!.parameters![parameter.$ref.split('/').pop()!] as ParameterObject) : parameter;
      const key = `${resolved.in}:${resolved.name.toLowerCase()}`;
      if (seen.has(key)) errors.push(`${where}: parameter ${resolved.name} (${resolved.in}) is declared twice`);
      seen.add(key);
      if (resolved.in === 'header' && !/^[A-Z]/.test(resolved.name)) errors.push(`${where}: header parameter ${resolved.name} comes from @Headers(); use a decorator that documents it (e.g. @IfMatch())`);
      walkSchemas(resolved.schema, `${where} ${resolved.in} ${resolved.name}`, (schema, at) => checkSchemaTyped(schema, at, errors));
    }
    for (const [status, response] of Object.entries(operation.responses) as [string, ResponseObject | ReferenceObject][]) {
      if (isRef(response)) continue;
      if (!response.description?.trim()) errors.push(`${where} ${status}: no description`);
      if (Number(status) >= 400 && Object.keys(response.content ?? {}).join() !== PROBLEM_MEDIA_TYPE) errors.push(`${where} ${status}: an error response must be ${PROBLEM_MEDIA_TYPE} only`);
      for (const [type, media] of Object.entries(response.content ?? {})) walkSchemas(media.schema, `${where} ${status} ${type}`, (schema, at) => checkSchemaTyped(schema, at, errors));
    }
  }
  for (const tag of declaredTags) if (!usedTags.has(tag)) errors.push(`tag ${tag} is declared but no operation uses it`);
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    walkSchemas(schema, name, (node, at) => checkSchemaTyped(node, at, errors));
  }
  const refs = new Set<string>();
  collectRefs(document, refs);
  for (const ref of refs) {
    const [, , section, name] = ref.split('/');
    const target = (document.components as Record<string, Record<string, unknown> | undefined>)[section]?.[name];
    if (!ref.startsWith('#/components/') || target === undefined) errors.push(`${ref} does not resolve`);
  }
  for (const [section, entries] of Object.entries(document.components ?? {})) {
    for (const name of Object.keys(entries as object)) {
      if (section !== 'securitySchemes' && !refs.has(`#/components/${section}/${name}`)) errors.push(`#/components/${section}/${name} is not used`);
    }
  }
  if (errors.length > 0) throw new Error(`The OpenAPI document is incomplete:\n- ${errors.join('\n- ')}`);
}
