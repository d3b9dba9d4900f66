import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Queryable } from '../database/sql';

export interface AliasRow {
  model_id: number;
  alias: string;
  version_id: number;
  version: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'a.model_id, a.alias, a.version_id, v.version, a.created_at, a.updated_at';

@Injectable()
export class AliasesRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  /** The target version, locked FOR SHARE: it cannot be archived or deleted until the alias is written. */
  async lockTarget(versionId: number, manager: Queryable): Promise<{ model_id: number; archived_at: Date | null; version: string } | undefined> {
    const rows = await manager.query('SELECT model_id, archived_at, version FROM model_versions WHERE id = $1 FOR SHARE', [versionId]);
    return rows[0];
  }

  /** Whether the model exists; with a transaction's manager, it is locked FOR SHARE (cannot be deleted meanwhile). */
  async modelExists(modelId: number, manager?: Queryable): Promise<boolean> {
    const rows = await (manager ?? this.dataSource.manager).query(`SELECT 1 FROM models WHERE id = $1${manager ? ' FOR SHARE' : ''}`, [modelId]);
    return rows.length > 0;
  }

  /**
   * Creates or moves the alias in one statement (atomic: concurrent moves serialise on the row, the
   * last one wins). Returns the alias and whether it was created.
   */
  async upsert(modelId: number, alias: string, versionId: number, manager: Queryable): Promise<{ row: AliasRow; created: boolean }> {
    const rows: (AliasRow & { created: boolean })[] = await manager.query(
      `WITH a AS (
         INSERT INTO model_aliases AS a (model_id, alias, version_id) VALUES ($1, $2, $3)
         ON CONFLICT (model_id, alias) DO UPDATE SET version_id = EXCLUDED.version_id, updated_at = now()
         RETURNING a.*, (xmax = 0) AS created)
       SELECT ${COLUMNS}, a.created FROM a JOIN model_versions v ON v.id = a.version_id`,
      [modelId, alias, versionId],
    );
    const { created, ...row } = rows[0];
    return { row, created };
  }

  /**
   * With `lock`, the alias row is locked FOR UPDATE (in the caller's transaction) first, then read.
   * Not in one joined statement: when a concurrent move commits while it waits for the lock, the
   * re-check of `… JOIN model_versions … FOR UPDATE OF a` pairs the moved row with the old version's
   * row, fails the join and returns nothing, as if the alias did not exist.
   */
  async find(modelId: number, alias: string, manager?: Queryable, options: { lock?: boolean } = {}): Promise<AliasRow | undefined> {
    const queryable = manager ?? this.dataSource.manager;
    if (options.lock) {
      const locked: unknown[] = await queryable.query('SELECT 1 FROM model_aliases WHERE model_id = $1 AND alias = $2 FOR UPDATE', [modelId, alias]);
      if (locked.length === 0) return undefined;
    }
    const rows: AliasRow[] = await queryable.query(
      `SELECT ${COLUMNS} FROM model_aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.model_id = $1 AND a.alias = $2`,
      [modelId, alias],
    );
    return rows[0];
  }

  async listForModel(modelId: number): Promise<AliasRow[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM model_aliases a JOIN model_versions v ON v.id = a.version_id WHERE a.model_id = $1 ORDER BY a.alias`, [modelId]);
  }

  async delete(modelId: number, alias: string, manager: Queryable): Promise<AliasRow | undefined> {
    const rows: AliasRow[] = await manager.query(
      `WITH a AS (DELETE FROM model_aliases WHERE model_id = $1 AND alias = $2 RETURNING *)
       SELECT ${COLUMNS} FROM a JOIN model_versions v ON v.id = a.version_id`,
      [modelId, alias],
    );
    return rows[0];
  }
}
