/**
 * Every kind of problem the API reports. The `type` member of a problem+json body is
 * `/problems/<code>`, which the service itself documents (GET /problems, GET /problems/{code}).
 */
export const PROBLEM_TYPES = {
  'validation-error': {
    status: 400,
    title: 'Request validation failed',
    description: 'One or more fields, query parameters or path parameters are invalid. `errors` lists each field.',
  },
  'malformed-request': {
    status: 400,
    title: 'Malformed request',
    description: 'The request body could not be read: the JSON is malformed or the body is empty where one is needed.',
  },
  'constraint-violation': {
    status: 400,
    title: 'Data constraint violated',
    description: 'The database rejected a value that breaks one of its rules (a range or format check).',
  },
  unauthorized: {
    status: 401,
    title: 'Unauthorized',
    description: 'Credentials are missing or invalid (unknown, revoked or expired key; a token that does not verify). Send `Authorization: Bearer <API key or OIDC token>`.',
  },
  forbidden: {
    status: 403,
    title: 'Forbidden',
    description: 'The credentials are valid but do not allow this: a scope is missing (`required_scopes` names it), or the key is restricted to other models.',
  },
  'not-found': {
    status: 404,
    title: 'Resource not found',
    description: 'The resource addressed, or one referenced by the request body, does not exist.',
  },
  'route-not-found': {
    status: 404,
    title: 'Route not found',
    description: 'No endpoint matches this method and path. See /docs for the API.',
  },
  'method-not-allowed': {
    status: 405,
    title: 'Method not allowed',
    description: 'The path exists but does not accept this method.',
  },
  'not-acceptable': {
    status: 406,
    title: 'Not acceptable',
    description: 'The service cannot produce a representation matching the Accept header.',
  },
  conflict: {
    status: 409,
    title: 'Conflict',
    description: 'The request conflicts with the current state of the registry, e.g. a duplicate name or a resource still in use.',
  },
  'artifact-exists': {
    status: 409,
    title: 'Artifact exists',
    description:
      "Restoring the version would write its artifact where something already exists (at its artifact_uri): the service never overwrites. Nothing was changed. Move what is there away and retry.",
  },
  'request-timeout': {
    status: 408,
    title: 'Request timeout',
    description: 'The request (headers and body) did not arrive within REQUEST_TIMEOUT_MS; the connection is closed.',
  },
  'precondition-failed': {
    status: 412,
    title: 'Precondition failed',
    description: 'The If-Match header does not match the current ETag: the resource changed since it was read.',
  },
  'cursor-expired': {
    status: 410,
    title: 'Cursor expired',
    description: 'The change-feed cursor points before events that have been pruned (EVENTS_RETENTION_DAYS): events may have been missed. Re-read the state you cache, then follow the feed from after=now.',
  },
  'payload-too-large': {
    status: 413,
    title: 'Payload too large',
    description: 'The request body exceeds the limit: 1 MiB (5 MiB for POST /catalog/import).',
  },
  'uri-too-long': {
    status: 414,
    title: 'URI too long',
    description: 'The request line or a path parameter is longer than the service accepts.',
  },
  'unsupported-media-type': {
    status: 415,
    title: 'Unsupported media type',
    description: 'Request bodies must be sent as application/json.',
  },
  'too-many-requests': {
    status: 429,
    title: 'Too many requests',
    description: 'The client sent too many requests; retry after the delay given in Retry-After.',
  },
  'request-header-fields-too-large': {
    status: 431,
    title: 'Request header fields too large',
    description: 'The request headers exceed the size the service accepts (16 KiB).',
  },
  'bad-request': {
    status: 400,
    title: 'Bad request',
    description: 'The request is not valid HTTP for this endpoint.',
  },
  'internal-error': {
    status: 500,
    title: 'Internal server error',
    description: 'An unexpected error occurred. It has been logged with the request id given in the body.',
  },
  'service-unavailable': {
    status: 503,
    title: 'Service unavailable',
    description: 'A dependency (usually the database) is unreachable, or the instance is shutting down. Retry later.',
  },
} as const satisfies Record<string, { status: number; title: string; description: string }>;

export type ProblemCode = keyof typeof PROBLEM_TYPES;

/**
 * Problems answered when no operation matches the request (unknown path or method, unusable Accept):
 * they belong to no operation of the OpenAPI document, so operations do not list them.
 */
export const ROUTE_LEVEL_PROBLEMS: ReadonlySet<ProblemCode> = new Set<ProblemCode>(['route-not-found', 'method-not-allowed', 'not-acceptable']);

export const problemTypeUri = (code: ProblemCode) => `/problems/${code}`;

/** The problem code used for an HTTP status when nothing more specific is known. */
export function problemCodeForStatus(status: number): ProblemCode {
  switch (status) {
    case 400:
      return 'bad-request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    case 405:
      return 'method-not-allowed';
    case 406:
      return 'not-acceptable';
    case 409:
      return 'conflict';
    case 408:
      return 'request-timeout';
    case 412:
      return 'precondition-failed';
    case 413:
      return 'payload-too-large';
    case 414:
      return 'uri-too-long';
    case 415:
      return 'unsupported-media-type';
    case 429:
      return 'too-many-requests';
    case 431:
      return 'request-header-fields-too-large';
    case 503:
      return 'service-unavailable';
    default:
      return status >= 500 ? 'internal-error' : 'bad-request';
  }
}
