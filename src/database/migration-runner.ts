import type { DataSource } from 'typeorm';
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
