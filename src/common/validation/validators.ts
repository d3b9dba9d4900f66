import { Transform } from 'class-transformer';
import { IsInt, IsNumber, Matches, Max, MaxLength, Min, ValidateBy, type ValidationOptions } from 'class-validator';
import { applyDecorators } from '@nestjs/common';
import { isSemVer, MAX_VERSION_LENGTH, SEMVER_PATTERN } from '../semver';
import { describeValidator } from '../openapi/validator-schemas';

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
export const SHA256_PATTERN = /^[0-9a-fA-F]{64}$/;
export const MAX_URI_LENGTH = 2048;
export const MAX_CONFIG_BYTES = 16 * 1024;
const ABSOLUTE_URI_PATTERN = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s\u0000-\u001f\u007f]+$/;

// What the custom validators below mean in the OpenAPI document (looser where JSON Schema cannot say it all).
describeValidator('isSemVerString', () => ({ type: 'string', pattern: SEMVER_PATTERN.source, maxLength: MAX_VERSION_LENGTH }));
describeValidator('isAbsoluteUri', () => ({ type: 'string', pattern: ABSOLUTE_URI_PATTERN.source, maxLength: MAX_URI_LENGTH }));
describeValidator('isEndpointUrl', () => ({ type: 'string', pattern: '^https?://', maxLength: MAX_URI_LENGTH }));
describeValidator('isJsonObject', () => ({ type: 'object' }));
describeValidator('isLineageUri', () => ({ type: 'string', pattern: '^[a-zA-Z][a-zA-Z0-9+.-]*:\\S+$', maxLength: MAX_URI_LENGTH }));

/** A short lowercase identifier: `generation`, `us-east-1`, `azure-openai`. */
export function IsSlug(maxLength = 64) {
  return applyDecorators(
    MaxLength(maxLength, { message: `must be at most ${maxLength} characters` }),
    Matches(SLUG_PATTERN, { message: 'must be a lowercase slug: a-z, 0-9, "_" or "-", starting with a letter or digit' }),
  );
}

export function IsModelName() {
  return applyDecorators(
    MaxLength(128, { message: 'must be at most 128 characters' }),
    Matches(MODEL_NAME_PATTERN, { message: 'must be 1-128 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit' }),
  );
}

/** A provider's own model identifier: 1-256 printable characters, no surrounding spaces. */
export function IsProviderModelId() {
  return applyDecorators(
    MaxLength(256, { message: 'must be at most 256 characters' }),
    Matches(/^[^\s\u0000-\u001f\u007f](?:[^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f])?$/, {
      message: 'must be 1-256 printable characters without leading or trailing spaces',
    }),
  );
}

export function IsSha256() {
  return Matches(SHA256_PATTERN, { message: 'must be a SHA-256 digest: 64 hexadecimal characters' });
}

export function IsSemVerString(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isSemVerString',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isSemVer(value),
        defaultMessage: () => `must be a SemVer 2.0.0 version such as 1.4.2 or 2.0.0-rc.1 (at most ${MAX_VERSION_LENGTH} characters, no "v" prefix)`,
      },
    },
    options,
  );
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** `scheme://…` with no whitespace: s3://bucket/key, gs://…, file:///path, https://host/path. */
export function isAbsoluteUri(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    value.length <= MAX_URI_LENGTH &&
    ABSOLUTE_URI_PATTERN.test(value) &&
    parseUrl(value) !== undefined
  );
}

export function IsAbsoluteUri(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isAbsoluteUri',
      validator: {
        validate: isAbsoluteUri,
        defaultMessage: () => `must be an absolute URI such as s3://bucket/key, gs://bucket/key, file:///path or https://host/path (at most ${MAX_URI_LENGTH} characters)`,
      },
    },
    options,
  );
}

/** Schemes a console could turn into script if it rendered a URI as a link. */
const SCRIPT_SCHEMES = new Set(['javascript', 'data', 'vbscript', 'blob']);

/**
 * Provenance: any absolute URI (RFC 3986 `scheme:rest`), including ones without an authority such as
 * MLflow's `runs:/<run_id>/model` and `models:/name/1`, or `urn:…`; no whitespace, no script schemes.
 */
export function isLineageUri(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > MAX_URI_LENGTH) return false;
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):[^\s\u0000-\u001f\u007f]+$/.exec(value);
  return match !== null && !SCRIPT_SCHEMES.has(match[1].toLowerCase()) && parseUrl(value) !== undefined;
}

export function IsLineageUri(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isLineageUri',
      validator: {
        validate: isLineageUri,
        defaultMessage: () => `must be an absolute URI such as runs:/<run_id>/model, s3://bucket/key, git+https://host/repo@commit or https://host/path (at most ${MAX_URI_LENGTH} characters)`,
      },
    },
    options,
  );
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https anywhere; plain http only for a local endpoint. */
export function isEndpointUrl(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > MAX_URI_LENGTH || /\s/.test(value)) return false;
  const url = parseUrl(value);
  if (!url || url.username !== '' || url.password !== '') return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname));
}

export function IsEndpointUrl(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isEndpointUrl',
      validator: {
        validate: isEndpointUrl,
        defaultMessage: () => 'must be an https URL (http is allowed only for localhost), without credentials',
      },
    },
    options,
  );
}

/** A JSON object (not an array or null) whose compact encoding is at most `maxBytes`. */
export function IsJsonObject(maxBytes = MAX_CONFIG_BYTES, options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isJsonObject',
      validator: {
        validate: (value: unknown) =>
          value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          Buffer.byteLength(JSON.stringify(value)) <= maxBytes &&
          !JSON.stringify(value).includes('\\u0000'),
        defaultMessage: () => `must be a JSON object of at most ${maxBytes / 1024} KiB`,
      },
    },
    options,
  );
}

/** Query-string numbers: converts only well-formed numerals, so anything else fails validation. */
export function ToNumber() {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value.trim()) ? Number(value) : value,
  );
}

export function ToInteger() {
  return Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d{1,17}$/.test(value.trim()) ? Number(value) : value));
}

/** Query-string booleans: exactly `true` or `false`. */
export function ToBoolean() {
  return Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));
}

export function ToLowerCase() {
  return Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value));
}

/** A row id: a positive integer up to 2^53-1 (query and path values are converted from text first). */
export function IsId(options: { fromText?: boolean } = {}) {
  return applyDecorators(
    ...(options.fromText ? [ToInteger()] : []),
    IsInt({ message: 'must be a positive integer' }),
    Min(1, { message: 'must be a positive integer' }),
    NumberAtMost(Number.MAX_SAFE_INTEGER, 'is too large'),
  );
}

describeValidator('numberAtMost', ([maximum]) => ({ maximum: maximum as number }));

/** `Max` that leaves what is not a number to the type check beside it (no "is too large" for `abc`). */
function NumberAtMost(maximum: number, message: string) {
  return ValidateBy({
    name: 'numberAtMost',
    constraints: [maximum],
    validator: { validate: (value: unknown) => typeof value !== 'number' || Number.isNaN(value) || value <= maximum, defaultMessage: () => message },
  });
}

/** A number from 0 to 1 (scores, rates). */
export function IsFraction(options: { fromText?: boolean } = {}) {
  return applyDecorators(
    ...(options.fromText ? [ToNumber()] : []),
    IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number from 0 to 1' }),
    Min(0, { message: 'must be a number from 0 to 1' }),
    Max(1, { message: 'must be a number from 0 to 1' }),
  );
}

/** A finite number zero or more, optionally capped (costs, latencies). */
export function IsNonNegative(options: { fromText?: boolean; max?: number } = {}) {
  return applyDecorators(
    ...(options.fromText ? [ToNumber()] : []),
    IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number zero or more' }),
    Min(0, { message: 'must be zero or more' }),
    ...(options.max !== undefined ? [Max(options.max, { message: `must be at most ${options.max}` })] : []),
  );
}

/** How many newest versions retention keeps: an integer from 1 to 10. */
export function IsRetentionCount() {
  return applyDecorators(
    IsInt({ message: 'must be an integer from 1 to 10' }),
    Min(1, { message: 'must be an integer from 1 to 10' }),
    Max(10, { message: 'must be an integer from 1 to 10' }),
  );
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

describeValidator('isTimestamp', () => ({ type: 'string', pattern: TIMESTAMP.source }));

/** An RFC 3339 timestamp with its time zone: `2026-11-26T12:00:00Z`, `2026-11-26T13:00:00.5+01:00`. */
export function isTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !TIMESTAMP.test(value)) return false;
  const time = Date.parse(value);
  return Number.isFinite(time) && time >= Date.UTC(1970, 0, 1) && time <= Date.UTC(9999, 11, 31);
}

export function IsTimestamp(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isTimestamp',
      validator: { validate: isTimestamp, defaultMessage: () => 'must be an RFC 3339 date-time with a time zone, e.g. 2026-11-26T12:00:00Z' },
    },
    options,
  );
}
