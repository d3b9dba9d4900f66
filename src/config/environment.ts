/**
 * The process environment, parsed and validated in one pass so that a bad deployment fails at boot
 * with a single line naming every bad variable, instead of failing later on first use.
 */

import * as path from 'node:path';
import { validateCronExpression } from 'cron';
import { fileUri, parseArtifactRoots, type ArtifactRoot } from './artifact-uri';
import { isScope, SCOPES } from './scopes';

type Raw = Record<string, string | undefined>;

interface Spec<T> {
  parse(raw: string): T | ParseError;
  default: T;
  describe: string;
}

class ParseError {
  constructor(readonly expected: string) {}
}

const integer = (min: number, max: number, fallback: number): Spec<number> => ({
  default: fallback,
  describe: `an integer from ${min} to ${max}`,
  parse(raw) {
    if (!/^-?\d+$/.test(raw.trim())) return new ParseError(this.describe);
    const value = Number(raw);
    return value >= min && value <= max ? value : new ParseError(this.describe);
  },
});

const text = (fallback: string, pattern?: RegExp, describe = 'a non-empty string'): Spec<string> => ({
  default: fallback,
  describe,
  parse(raw) {
    const value = raw.trim();
    if (value === '' || (pattern && !pattern.test(value))) return new ParseError(this.describe);
    return value;
  },
});

const optionalInteger = (min: number, max: number): Spec<number | undefined> => ({
  default: undefined,
  describe: `an integer from ${min} to ${max}`,
  parse: (raw) => integer(min, max, min).parse(raw),
});

const optionalText = (): Spec<string | undefined> => ({
  default: undefined,
  describe: 'a string',
  parse: (raw) => (raw.trim() === '' ? undefined : raw.trim()),
});

const oneOf = <T extends string>(values: readonly T[], fallback: T): Spec<T> => ({
  default: fallback,
  describe: `one of ${values.join(', ')}`,
  parse(raw) {
    const value = raw.trim().toLowerCase() as T;
    return values.includes(value) ? value : new ParseError(this.describe);
  },
});

const boolean = (fallback: boolean): Spec<boolean> => ({
  default: fallback,
  describe: 'true or false',
  parse(raw) {
    const value = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    return new ParseError(this.describe);
  },
});

const list = (): Spec<string[]> => ({
  default: [],
  describe: 'a comma-separated list of origins (scheme://host[:port]) or *',
  parse(raw) {
    const items = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    const valid = items.every((item) => item === '*' || /^https?:\/\/[^/\s]+$/i.test(item));
    return valid ? items : new ParseError(this.describe);
  },
});

const fraction = (fallback: number): Spec<number> => ({
  default: fallback,
  describe: 'a number greater than 0 and at most 1',
  parse(raw) {
    const value = Number(raw.trim());
    return /^\s*(0?\.\d+|1(\.0*)?)\s*$/.test(raw) && value > 0 && value <= 1 ? value : new ParseError(this.describe);
  },
});

const cron = (fallback: string): Spec<string> => ({
  default: fallback,
  describe: 'a cron expression (5 fields, or 6 with seconds), e.g. "0 3 * * *"',
  parse(raw) {
    const value = raw.trim();
    return validateCronExpression(value).valid ? value : new ParseError(this.describe);
  },
});

const artifactRoots = (): Spec<ArtifactRoot[]> => ({
  default: [],
  describe: 'a comma-separated list of file:///folder/ or s3://bucket/prefix/ URIs',
  parse(raw) {
    const { roots, problems } = parseArtifactRoots(raw);
    return problems.length > 0 ? new ParseError(`${this.describe} (${problems.join('; ')})`) : roots;
  },
});

const positiveNumber = (max: number, fallback: number): Spec<number> => ({
  default: fallback,
  describe: `a number greater than 0 and at most ${max}`,
  parse(raw) {
    const value = Number(raw.trim());
    return /^\s*(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw) && value > 0 && value <= max ? value : new ParseError(this.describe);
  },
});

/** Encryption keys: comma-separated, each at least 32 characters; the first encrypts, all decrypt. */
const keyList = (): Spec<string[]> => ({
  default: [],
  describe: 'one or more comma-separated keys of at least 32 characters each',
  parse(raw) {
    const keys = raw
      .split(',')
      .map((key) => key.trim())
      .filter((key) => key !== '');
    return keys.length > 0 && keys.every((key) => key.length >= 32) ? keys : new ParseError(this.describe);
  },
});

const optionalBoolean = (): Spec<boolean | undefined> => ({
  default: undefined,
  describe: 'true or false',
  parse: (raw) => boolean(false).parse(raw),
});

/** A secret of at least `minLength` printable characters without spaces. */
const secret = (minLength: number): Spec<string | undefined> => ({
  default: undefined,
  describe: `a secret of at least ${minLength} printable characters without spaces`,
  parse(raw) {
    const value = raw.trim();
    return value.length >= minLength && /^[\x21-\x7e]+$/.test(value) ? value : new ParseError(this.describe);
  },
});

const url = (protocols: string[]): Spec<string | undefined> => ({
  default: undefined,
  describe: `a URL (${protocols.map((p) => `${p}//`).join(' or ')}…)`,
  parse(raw) {
    try {
      const parsed = new URL(raw.trim());
      return protocols.includes(parsed.protocol) ? raw.trim() : new ParseError(this.describe);
    } catch {
      return new ParseError(this.describe);
    }
  },
});

/**
 * Fastify's trustProxy: false, true, a number of hops, or a comma-separated list of proxy addresses or
 * CIDR ranges. Only with it is X-Forwarded-For believed (the rate limit keys anonymous callers by IP).
 */
export type TrustProxy = boolean | number | string[];
const trustProxy = (): Spec<TrustProxy> => ({
  default: false,
  describe: 'true, false, a number of proxy hops, or a comma-separated list of proxy IP addresses or CIDR ranges',
  parse(raw) {
    const value = raw.trim().toLowerCase();
    if (['true', 'false'].includes(value)) return value === 'true';
    if (/^\d{1,2}$/.test(value)) return Number(value);
    const items = value.split(',').map((item) => item.trim()).filter(Boolean);
    const valid = items.length > 0 && items.every((item) => /^[0-9a-f.:]+(\/\d{1,3})?$/.test(item) && /[.:]/.test(item));
    return valid ? items : new ParseError(this.describe);
  },
});

/** `pattern=scope,scope;pattern=scope`: OIDC subjects (globs) mapped to the scopes they are granted. */
export interface SubjectScopeRule {
  pattern: string;
  scopes: string[];
}
const subjectScopes = (): Spec<SubjectScopeRule[]> => ({
  default: [],
  describe: `"subject-pattern=scope,scope" rules separated by ";" (scopes: ${SCOPES.join(', ')})`,
  parse(raw) {
    const rules: SubjectScopeRule[] = [];
    for (const part of raw.split(';').map((item) => item.trim()).filter(Boolean)) {
      const separator = part.lastIndexOf('=');
      const pattern = part.slice(0, separator).trim();
      const scopes = part.slice(separator + 1).split(',').map((scope) => scope.trim()).filter(Boolean);
      if (separator <= 0 || pattern === '' || scopes.length === 0 || !scopes.every(isScope)) return new ParseError(this.describe);
      rules.push({ pattern, scopes });
    }
    return rules.length > 0 ? rules : new ParseError(this.describe);
  },
});

const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Every variable the service reads, with its default. The README's configuration table mirrors this. */
export const environmentSchema = {
  HOST: text('0.0.0.0'),
  PORT: integer(0, 65535, 8003),
  CORS_ORIGINS: list(),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  LOG_FORMAT: oneOf(['auto', 'json', 'pretty'] as const, 'auto'),
  SHUTDOWN_DRAIN_MS: integer(0, 120_000, 0),
  SHUTDOWN_TIMEOUT_MS: integer(1_000, 600_000, 25_000),
  REQUEST_TIMEOUT_MS: integer(100, 3_600_000, 30_000),
  TRUST_PROXY: trustProxy(),

  AUTH_REQUIRED: optionalBoolean(),
  AUTH_BOOTSTRAP_KEY: secret(32),
  AUTH_OIDC_ISSUER: url(['https:', 'http:']),
  AUTH_OIDC_AUDIENCE: optionalText(),
  AUTH_OIDC_JWKS_URI: url(['https:', 'http:']),
  AUTH_OIDC_SCOPES_CLAIM: text('scope', /^[A-Za-z0-9_.:/-]{1,128}$/, 'a claim name'),
  AUTH_OIDC_SUBJECT_SCOPES: subjectScopes(),
  METRICS_TOKEN: secret(16),
  AUDIT_RETENTION_DAYS: integer(1, 36_500, 365),
  RATE_LIMIT_PER_MINUTE: integer(0, 10_000_000, 6_000),
  RATE_LIMIT_REDIS_URL: url(['redis:', 'rediss:']),
  RATE_LIMIT_REDIS_PREFIX: text('model-registry:rate-limit:', /^[A-Za-z0-9:._-]{1,100}$/, 'a Redis key prefix of letters, digits, ":", ".", "_" or "-"'),

  POSTGRES_HOST: optionalText(),
  POSTGRES_PORT: integer(1, 65535, 5432),
  POSTGRES_DB: text('model_registry', SLUG, 'a database name of letters, digits, ".", "_" or "-"'),
  POSTGRES_USER: text('postgres'),
  POSTGRES_PASSWORD: { ...optionalText(), default: 'postgres' } as Spec<string | undefined>,
  POSTGRES_SSL: boolean(false),
  POSTGRES_DIRECT_HOST: optionalText(),
  POSTGRES_DIRECT_PORT: optionalInteger(1, 65535),
  DB_POOL_SIZE: integer(1, 200, 10),
  DB_CONNECT_TIMEOUT_MS: integer(100, 120_000, 5_000),
  DB_STATEMENT_TIMEOUT_MS: integer(0, 3_600_000, 15_000),
  DB_MIGRATIONS_RUN: boolean(true),
  DB_PREPARED_STATEMENTS: boolean(true),
  EMBEDDED_POSTGRES_PORT: integer(1, 65535, 54329),
  EMBEDDED_POSTGRES_DIR: text('.data/postgres'),

  HEALTH_DB_TIMEOUT_MS: integer(100, 60_000, 1_500),

  OTEL_SERVICE_NAME: text('model-registry-svc'),
  OTEL_ENABLED: boolean(true),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalText(),

  DEFAULT_RETENTION_COUNT: integer(1, 10, 3),
  RETENTION_ENABLED: boolean(true),
  RETENTION_CRON: cron('0 3 * * *'),
  RETENTION_PURGE_DAYS: integer(1, 36_500, 90),
  RETENTION_BATCH_SIZE: integer(1, 10_000, 500),

  USAGE_EWMA_ALPHA: fraction(0.1),
  RESOLVE_CACHE_MAX_AGE_S: integer(0, 86_400, 5),
  RESOLVE_CACHE: boolean(true),
  RESOLVE_CACHE_MAX_ENTRIES: integer(1, 1_000_000, 10_000),
  RESOLVE_CACHE_TTL_MS: integer(100, 3_600_000, 5_000),
  EVENTS_RETENTION_DAYS: integer(1, 36_500, 30),
  EVENTS_HOLD_WARN_S: integer(1, 86_400, 30),
  EVENTS_STREAM_HEARTBEAT_S: integer(1, 300, 15),
  EVENTS_STREAM_MAX_SUBSCRIBERS: integer(1, 100_000, 5_000),

  ARCHIVE_STORAGE: oneOf(['none', 'file', 's3'] as const, 'none'),
  ARCHIVE_URI_PREFIX: text('archive://', /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S*$/, 'a URI prefix such as archive:// or glacier://my-archive/'),
  ARCHIVE_DIR: text('.data/archive'),
  ARCHIVE_BUCKET: optionalText(),
  ARCHIVE_KEY_PREFIX: { ...optionalText(), default: '' } as Spec<string | undefined>,
  ARCHIVE_STORAGE_CLASS: oneOf(['GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'STANDARD'] as const, 'GLACIER'),
  ARCHIVE_COPY_CONCURRENCY: integer(1, 64, 8),
  ARTIFACT_ROOTS: artifactRoots(),
  S3_ENDPOINT: optionalText(),
  S3_REGION: text('us-east-1'),
  S3_FORCE_PATH_STYLE: boolean(false),

  WEBHOOK_DELIVERY_ENABLED: boolean(true),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: boolean(false),
  WEBHOOK_SECRET_KEY: keyList(),
  WEBHOOK_CA_FILE: optionalText(),
  WEBHOOK_POLL_INTERVAL_MS: integer(50, 60_000, 500),
  WEBHOOK_CONCURRENCY: integer(1, 64, 8),
  WEBHOOK_TIMEOUT_MS: integer(100, 60_000, 10_000),
  WEBHOOK_LEASE_MS: integer(1_000, 3_600_000, 60_000),
  WEBHOOK_RETRY_SCALE: positiveNumber(1_000, 1),
  WEBHOOK_DELIVERY_RETENTION_DAYS: integer(1, 36_500, 30),
} satisfies Record<string, Spec<unknown>>;

type Schema = typeof environmentSchema;
export type Environment = { readonly [K in keyof Schema]: Schema[K]['default'] };

export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'InvalidEnvironmentError';
  }
}

const quote = (value: string) => JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);

/**
 * Reads every known variable from `raw` (normally `process.env`). An unset or empty variable takes its
 * default. Throws {@link InvalidEnvironmentError} listing all invalid values at once.
 */
export function parseEnvironment(raw: Raw = process.env): Environment {
  const problems: string[] = [];
  const parsed: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(environmentSchema) as [string, Spec<unknown>][]) {
    const value = raw[name];
    if (value === undefined || value.trim() === '') {
      parsed[name] = spec.default;
      continue;
    }
    const result = spec.parse(value);
    if (result instanceof ParseError) {
      // Never echo secrets back, even in a boot error.
      const shown = /PASSWORD|SECRET|KEY|TOKEN|REDIS_URL/.test(name) ? '<hidden>' : quote(value);
      problems.push(`${name} must be ${result.expected} (got ${shown})`);
    } else {
      parsed[name] = result;
    }
  }
  if (parsed.ARCHIVE_STORAGE === 's3' && !parsed.ARCHIVE_BUCKET) {
    problems.push('ARCHIVE_BUCKET must be set when ARCHIVE_STORAGE is s3');
  }
  problems.push(...artifactRootProblems(parsed));
  if (typeof parsed.WEBHOOK_LEASE_MS === 'number' && typeof parsed.WEBHOOK_TIMEOUT_MS === 'number' && parsed.WEBHOOK_LEASE_MS < parsed.WEBHOOK_TIMEOUT_MS + 1_000) {
    problems.push('WEBHOOK_LEASE_MS must be at least WEBHOOK_TIMEOUT_MS + 1000 (a delivery must end before its claim lapses)');
  }
  if (parsed.AUTH_OIDC_ISSUER && !parsed.AUTH_OIDC_AUDIENCE) {
    problems.push('AUTH_OIDC_AUDIENCE must be set when AUTH_OIDC_ISSUER is (tokens are only accepted for this audience)');
  }
  for (const dependent of ['AUTH_OIDC_AUDIENCE', 'AUTH_OIDC_JWKS_URI']) {
    if (parsed[dependent] && !parsed.AUTH_OIDC_ISSUER) problems.push(`${dependent} needs AUTH_OIDC_ISSUER`);
  }
  if (((parsed.AUTH_OIDC_SUBJECT_SCOPES as SubjectScopeRule[] | undefined) ?? []).length > 0 && !parsed.AUTH_OIDC_ISSUER) problems.push('AUTH_OIDC_SUBJECT_SCOPES needs AUTH_OIDC_ISSUER');
  if (problems.length > 0) throw new InvalidEnvironmentError(problems);
  return parsed as Environment;
}

/**
 * ARTIFACT_ROOTS must not lie inside the archive, whose files belong to archived versions. Roots of the
 * other scheme (s3:// roots with a file archive) are allowed — one list can serve several deployments —
 * and never match: those artifacts stay `outside_artifact_roots` (a warning says so at start-up).
 */
function artifactRootProblems(parsed: Record<string, unknown>): string[] {
  const roots = parsed.ARTIFACT_ROOTS as ArtifactRoot[] | undefined;
  const storage = parsed.ARCHIVE_STORAGE as string | undefined;
  if (!roots || roots.length === 0 || (storage !== 'file' && storage !== 's3')) return [];
  const problems: string[] = [];
  const archive =
    storage === 'file' && typeof parsed.ARCHIVE_DIR === 'string'
      ? `${fileUri(path.resolve(parsed.ARCHIVE_DIR).split('/').filter((s) => s !== ''))}/`.replace(/\/\/$/, '/')
      : storage === 's3' && typeof parsed.ARCHIVE_BUCKET === 'string'
        ? `s3://${parsed.ARCHIVE_BUCKET}/${(parsed.ARCHIVE_KEY_PREFIX as string | undefined) ?? ''}`
        : undefined;
  const inside = archive ? roots.filter((root) => root.prefix.startsWith(archive)) : [];
  if (inside.length > 0) problems.push(`ARTIFACT_ROOTS must not lie inside the archive (${inside.map((r) => r.prefix).join(', ')})`);
  return problems;
}
