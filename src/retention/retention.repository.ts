import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { counter, readCounters } from '../database/registry-counters';
import type { Queryable } from '../database/sql';
import type { RunStatus, RunTrigger } from './retention-run.entity';

export interface BatchModel {
  id: number;
  name: string;
  keep: number;
}

/** A live version, with what protects it. Batches come ordered by model, newest first. */
export interface RankedVersion {
  id: number;
  model_id: number;
  version: string;
  created_at: Date;
  pinned: boolean;
  aliased: boolean;
  has_active_binding: boolean;
  artifact_uri: string | null;
  size_bytes: number | null;
}

export interface PurgeCandidate {
  id: number;
  model_id: number;
  version: string;
  archive_uri: string | null;
  archived_at: Date;
}

export interface ArchivedRow {
  id: number;
  archive_uri: string | null;
  size_bytes: number | null;
}

export interface RunRow {
  id: number;
  trigger: RunTrigger;
  scheduled_for: Date | null;
  status: RunStatus;
  dry_run: boolean;
  purge: boolean;
  model_id: number | null;
  retention_count: number | null;
  storage: string;
  instance: string | null;
  started_at: Date;
  heartbeat_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  models_count: number;
  kept_count: number;
  archived_count: number;
  archived_bytes: number;
  failed_count: number;
  purged_count: number;
  failures: unknown[];
  error: string | null;
}

export interface RunCounts {
  models_count: number;
  kept_count: number;
  archived_count: number;
  archived_bytes: number;
  failed_count: number;
  purged_count: number;
  failures: unknown[];
}

/** Rows that must not be archived or purged: pinned, aliased, or routed to by an active binding. */
const UNPROTECTED =
  `NOT v.pinned AND NOT EXISTS (SELECT 1 FROM model_aliases a WHERE a.version_id = v.id) ` +
  `AND NOT EXISTS (SELECT 1 FROM provider_bindings b WHERE b.version_id = v.id AND b.status = 'active')`;

/** A run still marked running whose heartbeat is this old was abandoned by a replica that died. */
export const ABANDONED_AFTER = '10 minutes';
const ABANDONED_ERROR = 'abandoned: the instance running it stopped';

/** A run whose replica died mid-run reads as failed once its heartbeat is old (closeAbandonedRuns records it on the next run). */
const ABANDONED = `status = 'running' AND heartbeat_at < now() - interval '${ABANDONED_AFTER}'`;
const RUN_COLUMNS =
  `id, trigger, scheduled_for, CASE WHEN ${ABANDONED} THEN 'failed' ELSE status END AS status, dry_run, purge, model_id, retention_count, ` +
  `storage, instance, started_at, heartbeat_at, CASE WHEN ${ABANDONED} THEN heartbeat_at ELSE finished_at END AS finished_at, duration_ms, ` +
  `models_count, kept_count, archived_count, archived_bytes, failed_count, purged_count, failures, ` +
  `CASE WHEN ${ABANDONED} THEN '${ABANDONED_ERROR}' ELSE error END AS error`;

@Injectable()
export class RetentionRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  /**
   * The next batch of models (by id) and their live versions ranked newest first — one window
   * function over the batch's versions, so memory and time per batch stay bounded as the catalog grows.
   */
  async rankBatch(options: { afterModelId: number; limit: number; modelId?: number; override?: number; defaultCount: number }): Promise<{
    models: BatchModel[];
    versions: RankedVersion[];
  }> {
    const models: BatchModel[] = await this.dataSource.query(
      `SELECT m.id, m.name, COALESCE($1::int, m.retention_count::int, $2::int) AS keep
         FROM models m
        WHERE m.id > $3 AND ($4::bigint IS NULL OR m.id = $4)
        ORDER BY m.id LIMIT $5`,
      [options.override ?? null, options.defaultCount, options.afterModelId, options.modelId ?? null, options.limit],
    );
    if (models.length === 0) return { models, versions: [] };
    const versions: RankedVersion[] = await this.dataSource.query(
      `SELECT r.id, r.model_id, r.version, r.created_at, r.pinned, r.artifact_uri, r.size_bytes,
              EXISTS (SELECT 1 FROM model_aliases a WHERE a.version_id = r.id) AS aliased,
              EXISTS (SELECT 1 FROM provider_bindings b WHERE b.version_id = r.id AND b.status = 'active') AS has_active_binding
         FROM (SELECT v.id, v.model_id, v.version, v.created_at, v.pinned, v.artifact_uri, v.size_bytes,
                      row_number() OVER (PARTITION BY v.model_id ORDER BY v.created_at DESC, v.id DESC) AS rank
                 FROM model_versions v
                WHERE v.archived_at IS NULL AND v.model_id = ANY($1::bigint[])) r
        ORDER BY r.model_id, r.rank`,
      [models.map((m) => m.id)],
    );
    return { models, versions };
  }

  /**
   * Marks versions archived, in one transaction: each is locked first (so no binding can be activated
   * or pin set meanwhile), then re-checked — still live, still unprotected — in a fresh statement that
   * sees everything committed before the locks were granted. Returns the versions actually archived.
   */
  async markArchived(entries: { id: number; archive_uri: string | null }[], now: Date): Promise<ArchivedRow[]> {
    if (entries.length === 0) return [];
    return this.dataSource.transaction(async (manager) => {
      const ids = entries.map((e) => e.id);
      await manager.query('SELECT id FROM model_versions WHERE id = ANY($1::bigint[]) AND archived_at IS NULL ORDER BY id FOR UPDATE', [ids]);
      const [rows]: [ArchivedRow[], number] = await manager.query(
        `UPDATE model_versions v SET archived_at = $3, archive_uri = e.archive_uri, updated_at = $3
           FROM unnest($1::bigint[], $2::text[]) AS e(id, archive_uri)
          WHERE v.id = e.id AND v.archived_at IS NULL AND ${UNPROTECTED}
          RETURNING v.id, v.archive_uri, v.size_bytes`,
        [ids, entries.map((e) => e.archive_uri), now],
      );
      return rows;
    });
  }

  /** Archived, unprotected versions archived before `cutoff`, oldest first, after the keyset cursor. */
  async purgeCandidates(options: { cutoff: Date; after?: { archivedAt: Date; id: number }; limit: number; modelId?: number }): Promise<PurgeCandidate[]> {
    return this.dataSource.query(
      `SELECT v.id, v.model_id, v.version, v.archive_uri, v.archived_at
         FROM model_versions v
        WHERE v.archived_at IS NOT NULL AND v.archived_at < $1
          AND ($2::timestamptz IS NULL OR (v.archived_at, v.id) > ($2::timestamptz, $3::bigint))
          AND ($4::bigint IS NULL OR v.model_id = $4)
          AND ${UNPROTECTED}
        ORDER BY v.archived_at, v.id LIMIT $5`,
      [options.cutoff, options.after?.archivedAt ?? null, options.after?.id ?? null, options.modelId ?? null, options.limit],
    );
  }

  /**
   * Purges versions in one transaction: locks them, keeps those still purgeable (archived before the
   * cutoff, unprotected), lets `removeArchived` delete each one's archived object (false: keep the
   * row), then deletes the rows (their inactive bindings go with them). Returns the versions purged.
   */
  async purge(ids: number[], cutoff: Date, removeArchived: (version: PurgeCandidate) => Promise<boolean>): Promise<PurgeCandidate[]> {
    if (ids.length === 0) return [];
    return this.dataSource.transaction(async (manager) => {
      // The change feed reports these deletions as purges (see the events triggers).
      await manager.query(`SELECT set_config('model_registry.event_reason', 'purge', true)`);
      await manager.query('SELECT id FROM model_versions WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE', [ids]);
      const purgeable: PurgeCandidate[] = await manager.query(
        `SELECT v.id, v.model_id, v.version, v.archive_uri, v.archived_at FROM model_versions v
          WHERE v.id = ANY($1::bigint[]) AND v.archived_at < $2 AND ${UNPROTECTED} ORDER BY v.archived_at, v.id`,
        [ids, cutoff],
      );
      const removed: PurgeCandidate[] = [];
      for (const version of purgeable) if (await removeArchived(version)) removed.push(version);
      if (removed.length > 0) await manager.query('DELETE FROM model_versions WHERE id = ANY($1::bigint[])', [removed.map((v) => v.id)]);
      return removed;
    });
  }

  /** Locks an archived version for restore; undefined when it does not exist. */
  async lockVersion(id: number, manager: Queryable): Promise<{ id: number; artifact_uri: string | null; archive_uri: string | null; archived_at: Date | null } | undefined> {
    const rows = await manager.query('SELECT id, artifact_uri, archive_uri, archived_at FROM model_versions WHERE id = $1 FOR UPDATE', [id]);
    return rows[0];
  }

  async markRestored(id: number, manager: Queryable, now: Date): Promise<void> {
    await manager.query('UPDATE model_versions SET archived_at = NULL, archive_uri = NULL, updated_at = $2 WHERE id = $1', [id, now]);
  }

  // ---- runs

  async startRun(run: {
    trigger: RunTrigger;
    scheduledFor?: Date;
    dryRun: boolean;
    purge: boolean;
    modelId?: number;
    retentionCount?: number;
    storage: string;
    instance: string;
  }, manager: Queryable): Promise<number | undefined> {
    const rows: { id: number }[] = await manager.query(
      `INSERT INTO retention_runs (trigger, scheduled_for, dry_run, purge, model_id, retention_count, storage, instance)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (scheduled_for) WHERE trigger = 'scheduled' DO NOTHING
       RETURNING id`,
      [run.trigger, run.scheduledFor ?? null, run.dryRun, run.purge, run.modelId ?? null, run.retentionCount ?? null, run.storage, run.instance],
    );
    return rows[0]?.id;
  }

  async heartbeat(id: number): Promise<void> {
    await this.dataSource.query('UPDATE retention_runs SET heartbeat_at = now() WHERE id = $1', [id]);
  }

  async finishRun(id: number, status: RunStatus, counts: RunCounts, error?: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE retention_runs
          SET status = $2, finished_at = now(), heartbeat_at = now(),
              duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int,
              models_count = $3, kept_count = $4, archived_count = $5, archived_bytes = $6, failed_count = $7, purged_count = $8,
              failures = $9::jsonb, error = $10
        WHERE id = $1`,
      [
        id,
        status,
        counts.models_count,
        counts.kept_count,
        counts.archived_count,
        counts.archived_bytes,
        counts.failed_count,
        counts.purged_count,
        JSON.stringify(counts.failures),
        error?.slice(0, 2000) ?? null,
      ],
    );
  }

  /** Runs left "running" by a replica that died are marked failed, so they do not look alive forever. */
  async closeAbandonedRuns(): Promise<void> {
    await this.dataSource.query(
      `UPDATE retention_runs SET status = 'failed', finished_at = heartbeat_at, error = '${ABANDONED_ERROR}' WHERE ${ABANDONED}`,
    );
  }

  /** `modelNameLike`: only runs limited to a model whose name matches one of these LIKE patterns. */
  async listRuns(limit: number, before?: { startedAt: string; id: number }, modelNameLike?: string[]): Promise<(RunRow & { sort_value: string })[]> {
    return this.dataSource.query(
      `SELECT ${RUN_COLUMNS}, started_at::text AS sort_value FROM retention_runs
        WHERE ($1::timestamptz IS NULL OR (started_at, id) < ($1::timestamptz, $2::bigint))
          AND ($4::text[] IS NULL OR model_id IN (SELECT id FROM models WHERE name LIKE ANY($4::text[])))
        ORDER BY started_at DESC, id DESC LIMIT $3`,
      [before?.startedAt ?? null, before?.id ?? null, limit, modelNameLike ?? null],
    );
  }

  async findRun(id: number): Promise<RunRow | undefined> {
    const rows: RunRow[] = await this.dataSource.query(`SELECT ${RUN_COLUMNS} FROM retention_runs WHERE id = $1`, [id]);
    return rows[0];
  }

  // ---- statistics

  async totals(): Promise<{ live: number; archived: number; archived_bytes: number; purged_total: number; runs_total: number }> {
    const [counters, runs] = await Promise.all([
      readCounters(this.dataSource.manager, ['versions.live', 'versions.archived']),
      this.dataSource.query(`SELECT COALESCE(sum(purged_count) FILTER (WHERE NOT dry_run), 0) AS purged_total, count(*) AS runs_total FROM retention_runs`),
    ]);
    return {
      live: counter(counters, 'versions.live'),
      archived: counter(counters, 'versions.archived'),
      archived_bytes: counter(counters, 'versions.archived.bytes'),
      purged_total: runs[0].purged_total,
      runs_total: runs[0].runs_total,
    };
  }

  /** Versions a run would archive now (default retention counts), in total and for the top models. */
  async eligibleNow(defaultCount: number, top: number): Promise<{ total: number; models: { model_id: number; model_name: string; eligible: number }[] }> {
    const rows: { model_id: number; model_name: string; eligible: number; total: number }[] = await this.dataSource.query(
      `WITH ranked AS (
         SELECT v.id, v.model_id, v.pinned,
                row_number() OVER (PARTITION BY v.model_id ORDER BY v.created_at DESC, v.id DESC) AS rank
           FROM model_versions v WHERE v.archived_at IS NULL),
       eligible AS (
         SELECT v.model_id, count(*)::int AS eligible
           FROM ranked v JOIN models m ON m.id = v.model_id
          WHERE v.rank > COALESCE(m.retention_count::int, $1::int) AND ${UNPROTECTED}
          GROUP BY v.model_id)
       SELECT e.model_id, m.name AS model_name, e.eligible, sum(e.eligible) OVER ()::int AS total
         FROM eligible e JOIN models m ON m.id = e.model_id
        ORDER BY e.eligible DESC, e.model_id LIMIT $2`,
      [defaultCount, top],
    );
    return { total: rows[0]?.total ?? 0, models: rows.map(({ model_id, model_name, eligible }) => ({ model_id, model_name, eligible })) };
  }
}
