import type { ComponentsObject, HeaderObject, ParameterObject, ReferenceObject, ResponseObject } from '@nestjs/swagger';

/** Headers, parameters and responses many operations share, referenced from `components`. */

const ETAG_EXAMPLE = '"hGZ3m2xYl0bTqKQy3v0ZbcSg1y4"';

export const STANDARD_HEADERS = {
  'X-Request-Id': {
    description: "The request's id: the client's own X-Request-Id when it is a sane token (1-128 of A-Z a-z 0-9 . _ : @ / + = -), else a generated UUID. Problem bodies repeat it.",
    required: true,
    schema: { type: 'string', maxLength: 128, example: '6f1c1f0e-8a54-4b43-9a53-9bd1b1f6c3a7' },
  },
  ETag: {
    description: 'Strong entity tag of the representation: send it in If-Match to change the resource only if nobody else did, or in If-None-Match to revalidate a cached copy.',
    required: true,
    schema: { type: 'string', example: ETAG_EXAMPLE },
  },
  Location: {
    description: 'Path of the resource.',
    required: true,
    schema: { type: 'string', example: '/models/1' },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    required: true,
    schema: { type: 'integer', minimum: 0, example: 5 },
  },
  'RateLimit-Limit': {
    description: 'Requests allowed per minute for this caller (RATE_LIMIT_PER_MINUTE).',
    required: true,
    schema: { type: 'integer', minimum: 1, example: 6000 },
  },
  'RateLimit-Remaining': {
    description: 'Requests left in the current minute.',
    required: true,
    schema: { type: 'integer', minimum: 0, example: 0 },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the budget renews.',
    required: true,
    schema: { type: 'integer', minimum: 0, example: 12 },
  },
  'WWW-Authenticate': {
    description: 'The authentication scheme to use (RFC 6750): `Bearer`, with `error="invalid_token"` when the credentials sent were refused.',
    required: true,
    schema: { type: 'string', example: 'Bearer' },
  },
  'Cache-Control': {
    description: 'How long a cache may reuse the answer.',
    required: true,
    schema: { type: 'string', example: 'max-age=5' },
  },
} satisfies Record<string, HeaderObject>;

export type StandardHeader = keyof typeof STANDARD_HEADERS;

export const headerRef = (name: StandardHeader): ReferenceObject => ({ $ref: `#/components/headers/${name}` });

export const STANDARD_PARAMETERS = {
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    required: false,
    description: 'ETag from a previous read: the change is made only if the resource still has it, else 412 with current_etag. Without it the change is unconditional.',
    schema: { type: 'string', example: ETAG_EXAMPLE },
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description: 'ETag of the copy you hold: answered with 304 and no body while it is still current.',
    schema: { type: 'string', example: ETAG_EXAMPLE },
  },
} satisfies Record<string, ParameterObject>;

export const parameterRef = (name: keyof typeof STANDARD_PARAMETERS): ReferenceObject => ({ $ref: `#/components/parameters/${name}` });

export const STANDARD_RESPONSES = {
  NotModified: {
    description: 'Not modified: the ETag sent in If-None-Match is still current. No body.',
    headers: { ETag: headerRef('ETag'), 'X-Request-Id': headerRef('X-Request-Id') },
  },
} satisfies Record<string, ResponseObject>;

export const responseRef = (name: keyof typeof STANDARD_RESPONSES): ReferenceObject => ({ $ref: `#/components/responses/${name}` });

const STANDARD: Record<'headers' | 'parameters' | 'responses', Record<string, object>> = {
  headers: STANDARD_HEADERS,
  parameters: STANDARD_PARAMETERS,
  responses: STANDARD_RESPONSES,
};

/** Adds the standard components the document references (and those they reference in turn). */
export function addStandardComponents(document: { components?: ComponentsObject }): void {
  const components = (document.components ??= {}) as Record<string, Record<string, object> | undefined>;
  for (let added = true; added; ) {
    added = false;
    const refs = JSON.stringify(document).match(/#\/components\/(headers|parameters|responses)\/[A-Za-z-]+/g) ?? [];
    for (const ref of new Set(refs)) {
      const [, , section, name] = ref.split('/') as [string, string, keyof typeof STANDARD, string];
      const standard = STANDARD[section][name];
      if (standard && !components[section]?.[name]) {
        components[section] = { ...components[section], [name]: standard };
        added = true;
      }
    }
  }
}
