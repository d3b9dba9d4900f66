import { DataSource } from 'typeorm';
import { databaseConfigFrom } from '../config/database.config';
import { parseEnvironment } from '../config/environment';
import { dataSourceOptions } from './data-source.options';
import { openDedicatedClient } from './dedicated-client';

/** pg_advisory_lock key shared by every replica: "mr-migrate" folded into a bigint. */
export const MIGRATION_LOCK_KEY = 7_218_342_961_553_120_001n;

export interface MigrationRunResult {
  applied: string[];
  waitedMs: number;
}

/**
 * Applies pending migrations while holding a PostgreSQL advisory lock, so that replicas starting at
 * the same time on an empty database apply each migration exactly once: the first takes the lock and
 * migrates, the others wait, then find nothing pending.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<MigrationRunResult> {
  const lockClient = await openDedicatedClient(dataSource, 'migrate');
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

/** Connects to `database` on a server, applies pending migrations under the lock, disconnects (tests, benchmarks). */
export async function migrateDatabase(server: { host: string; port: number; user: string; password?: string }, database: string, applicationName: string): Promise<MigrationRunResult> {
  const env = parseEnvironment({
    POSTGRES_HOST: server.host,
    POSTGRES_PORT: String(server.port),
    POSTGRES_USER: server.user,
    POSTGRES_PASSWORD: server.password,
    POSTGRES_DB: database,
  });
  const dataSource = new DataSource(dataSourceOptions(databaseConfigFrom(env), applicationName));
  await dataSource.initialize();
  try {
    return await runMigrationsExclusively(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
