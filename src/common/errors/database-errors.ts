import { QueryFailedError } from 'typeorm';
import { CONSTRAINTS } from '../../database/constraints';
import { ApplicationError, ConflictError, ServiceUnavailableError } from './application.error';

/** SQLSTATE codes we translate (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
export const PG = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  CHECK_VIOLATION: '23514',
  NOT_NULL_VIOLATION: '23502',
  EXCLUSION_VIOLATION: '23P01',
  STRING_TOO_LONG: '22001',
  CHARACTER_NOT_IN_REPERTOIRE: '22021',
  NUMERIC_OUT_OF_RANGE: '22003',
  INVALID_DATETIME: '22007',
  DATETIME_OUT_OF_RANGE: '22008',
  INVALID_TEXT_REPRESENTATION: '22P02',
  INVALID_JSON_TEXT: '22P05',
  SERIALIZATION_FAILURE: '40001',
  DEADLOCK_DETECTED: '40P01',
  LOCK_NOT_AVAILABLE: '55P03',
  QUERY_CANCELED: '57014',
  READ_ONLY_SQL_TRANSACTION: '25006',
  TOO_MANY_CONNECTIONS: '53300',
} as const;

interface PgErrorFields {
  code?: string;
  constraint?: string;
  column?: string;
  table?: string;
  message?: string;
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

function driverFields(error: unknown): PgErrorFields | undefined {
  if (error instanceof QueryFailedError) return error.driverError as PgErrorFields;
  if (error && typeof error === 'object' && 'code' in error) return error as PgErrorFields;
  return undefined;
}

/** Errors of the connection itself rather than of a statement: the database is unreachable or gone. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const fields = driverFields(error) ?? (error instanceof Error ? { message: error.message } : undefined);
  if (!fields) return false;
  const code = fields.code ?? '';
  if (CONNECTION_ERROR_CODES.has(code)) return true;
  // SQLSTATE class 08 (connection exception; not 08P01, a protocol violation: that is a bug),
  // 57P0x (server shutting down), 53300 (too many connections).
  if ((/^08/.test(code) && code !== '08P01') || /^57P0/.test(code) || code === PG.TOO_MANY_CONNECTIONS) return true;
  // pg-pool and pg report these without a code.
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout/i.test(fields.message ?? '');
}

/**
 * Turns a PostgreSQL error into the ApplicationError the client should see, or undefined when it is
 * not one the client caused (then it is a bug and becomes a 500). Constraint names are looked up in
 * {@link CONSTRAINTS} to name the field and explain the rule; messages from the driver are never used.
 */
export function translateDatabaseError(error: unknown, method?: string): ApplicationError | undefined {
  if (isDatabaseUnavailable(error)) {
    return new ServiceUnavailableError('The database is unavailable. Retry shortly.');
  }
  const fields = driverFields(error);
  if (!fields?.code || !/^[0-9A-Z]{5}$/.test(fields.code)) return undefined;
  const known = fields.constraint ? CONSTRAINTS[fields.constraint] : undefined;
  switch (fields.code) {
    case PG.UNIQUE_VIOLATION:
    case PG.EXCLUSION_VIOLATION:
      return new ConflictError(known?.message ?? 'A resource with the same unique fields already exists.', known?.field);
    case PG.FOREIGN_KEY_VIOLATION:
      // On DELETE the row is still referenced; otherwise the body references a row that does not exist.
      if (method === 'DELETE') {
        return new ConflictError('The resource is still referenced by other resources and cannot be deleted.');
      }
      return new ApplicationError(
        'not-found',
        known?.message ?? 'A resource referenced by the request does not exist.',
        known?.field ? [{ field: known.field, message: known.message }] : undefined,
      );
    case PG.CHECK_VIOLATION:
    case PG.NOT_NULL_VIOLATION: {
      const field = known?.field ?? fields.column;
      const message = known?.message ?? (fields.code === PG.NOT_NULL_VIOLATION ? 'is required' : 'violates a data rule');
      return new ApplicationError('constraint-violation', field ? `${field}: ${message}` : message, field ? [{ field, message }] : undefined);
    }
    case PG.STRING_TOO_LONG:
    case PG.CHARACTER_NOT_IN_REPERTOIRE:
    case PG.NUMERIC_OUT_OF_RANGE:
    case PG.INVALID_DATETIME:
    case PG.DATETIME_OUT_OF_RANGE:
    case PG.INVALID_TEXT_REPRESENTATION:
    case PG.INVALID_JSON_TEXT:
      return new ApplicationError('constraint-violation', 'A value is out of range or not in the expected format (text may not contain NUL characters).');
    case PG.SERIALIZATION_FAILURE:
    case PG.DEADLOCK_DETECTED:
    case PG.LOCK_NOT_AVAILABLE:
      return new ConflictError('The resource is being changed by a concurrent request. Retry the request.');
    case PG.QUERY_CANCELED:
      return new ServiceUnavailableError('The database did not answer in time. Retry shortly.');
    // The service never opens read-only transactions: a write reached a standby, which happens for a
    // moment during a failover (the proxy already routes to the node being promoted) or while a DNS
    // name still points at a demoted primary.
    case PG.READ_ONLY_SQL_TRANSACTION:
      return new ServiceUnavailableError('The database accepts no writes right now (a failover may be in progress). Retry shortly.');
    default:
      return undefined;
  }
}
