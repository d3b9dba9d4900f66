import { Client } from 'pg';
import type { DataSource } from 'typeorm';

/** The connection fields of a postgres DataSource's options (TypeORM does not export the type). */
interface PostgresConnectionFields {
  host?: string;
  port?: number;
  username?: string;
  password?: unknown;
  database?: string;
  ssl?: boolean | { rejectUnauthorized: boolean };
  applicationName?: string;
  connectTimeoutMS?: number;
}

/** pg_advisory_lock key shared by every replica: "mr-migrate" folded into a bigint. */
export const MIGRATION_LOCK_KEY = 7_218_342_961_553_120_001n;

export interface MigrationRunResult {
  applied: string[];
  waitedMs: number;
}

/**
 * Applies pending migrations while holding a PostgreSQL advisory lock, so that replicas starting at
 * the same time on an empty database apply each migration exactly once: the first takes the lock and
 * migrates, the others wait, then find nothing pending. The lock is held on a dedicated connection
 * outside the pool, so a pool of size 1 cannot deadlock against it.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<MigrationRunResult> {
  const options = dataSource.options as PostgresConnectionFields;
  const lockClient = new Client({
    host: options.host,
    port: options.port,
    user: options.username,
    password: typeof options.password === 'string' ? options.password : undefined,
    database: options.database,
    ssl: options.ssl,
    application_name: `${options.applicationName ?? 'model-registry'}:migrate`,
    connectionTimeoutMillis: options.connectTimeoutMS,
  });
  await lockClient.connect();
  try {
    const started = Date.now();
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    const waitedMs = Date.now() - started;
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return { applied: applied.map((migration) => migration.name), waitedMs };
    } finally {
      await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  } finally {
    await lockClient.end();
  }
}
