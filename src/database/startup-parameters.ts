import type { Logger } from '@nestjs/common';
import { Client } from 'pg';
import type { DatabaseConfig } from '../config/database.config';

/**
 * PgBouncer answers a startup parameter it was not told to ignore with a protocol error (SQLSTATE
 * 08P01) naming the parameter, and closes the connection. It has no more specific code, so the
 * message is the only way to tell this refusal from another protocol error.
 */
function refusedStatementTimeout(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '08P01' && typeof message === 'string' && /unsupported startup parameter/i.test(message) && message.includes('statement_timeout');
}

/**
 * Whether the pool may send DB_STATEMENT_TIMEOUT_MS as a startup parameter. A stock PgBouncer refuses
 * it (unless `ignore_startup_parameters = statement_timeout`), which would refuse every pooled
 * connection: then the service connects without it, says so once, and StatementTimeoutCheck reports the
 * timeout connections really run with. Any other failure keeps the parameter (the pool's own retries and
 * readiness report an unreachable database).
 */
export async function statementTimeoutAccepted(config: DatabaseConfig, logger: Pick<Logger, 'warn'>): Promise<boolean> {
  if (config.statementTimeoutMs <= 0 || config.embedded) return true;
  const client = new Client({
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password,
    ssl: config.ssl ? { rejectUnauthorized: false } : false,
    connectionTimeoutMillis: config.connectTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
    application_name: 'model-registry-probe',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch (error) {
    if (!refusedStatementTimeout(error)) return true;
    logger.warn(
      `${config.host}:${config.port} refuses statement_timeout as a startup parameter (a PgBouncer without ignore_startup_parameters = statement_timeout): ` +
        'connecting without it; set the timeout on the server (ALTER ROLE <user> SET statement_timeout = …)',
    );
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
