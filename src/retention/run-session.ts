import type { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { openDedicatedClient } from '../database/dedicated-client';
import type { Queryable } from '../database/sql';

/**
 * Advisory lock class of retention runs: every run, dry or real, holds pg_advisory_lock(RUN_LOCK_CLASS,
 * run id) on its own session for as long as it lives. A run row still `running` whose lock nobody holds
 * was abandoned: its process died (the session, and the lock, die with it) or lost its database.
 */
export const RUN_LOCK_CLASS = 72185;

/** SQL: whether the run in column `id` is alive, i.e. some session holds its run lock in this database. */
export const RUN_IS_ALIVE = `EXISTS (SELECT 1 FROM pg_locks l
   WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${RUN_LOCK_CLASS}::oid AND l.objid = id::int::oid AND l.objsubid = 2
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))`;

/**
 * A run's own database session (outside the pool, so holding locks never starves the work). The run
 * row is inserted and its lock taken in one statement, so no other session can see the row running
 * without its lock. If the session dies, `signal` aborts: the run must stop at its next check.
 */
export class RunSession {
  private readonly lost = new AbortController();

  private constructor(
    readonly id: number,
    private readonly client: Client,
  ) {
    const onLost = () => this.lost.abort(new Error('the retention run lost its database session'));
    client.on('error', onLost);
    client.on('end', onLost);
  }

  get signal(): AbortSignal {
    return this.lost.signal;
  }

  /**
   * Runs `insertSql` (an INSERT … RETURNING id into retention_runs) and locks the new run in the same
   * statement, then `alongside` (the run's audit row) in the same transaction. Undefined when the
   * insert inserted nothing (a scheduled slot another replica claimed).
   */
  static async start(
    dataSource: DataSource,
    insertSql: string,
    params: unknown[],
    alongside?: (session: Queryable, runId: number) => Promise<void>,
  ): Promise<RunSession | undefined> {
    const client = await openDedicatedClient(dataSource, 'retention-run');
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: number }>(
        `WITH run AS (${insertSql}) SELECT id, pg_advisory_lock(${RUN_LOCK_CLASS}, id::int) FROM run`,
        params,
      );
      if (rows.length === 0) {
        await client.query('ROLLBACK');
        await client.end();
        return undefined;
      }
      const id = Number(rows[0].id);
      await alongside?.(client, id);
      // The run's session lock outlives the transaction: it is held until the session ends.
      await client.query('COMMIT');
      return new RunSession(id, client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** Tries a cluster-wide session lock (released when the session ends). */
  async tryLock(key: bigint): Promise<boolean> {
    const { rows } = await this.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key.toString()]);
    return rows[0].locked;
  }

  /** Ends the session: the run's locks go with it. Record the run's outcome first. */
  async close(): Promise<void> {
    this.client.removeAllListeners('end');
    await this.client.end().catch(() => undefined);
  }
}
