import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { artifactKey } from '../config/artifact-uri';
import { counter, readCounters } from '../database/registry-counters';
import type { Queryable } from '../database/sql';
import { ARTIFACT_LOCK_CLASS } from '../versions/versions.repository';
import type { RunStatus, RunTrigger } from './retention-run.entity';
import { RUN_IS_ALIVE, RunSession } from './run-session';

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
  artifact_key: string | null;
  size_bytes: number | null;
}

export interface PurgeCandidate {
  id: number;
  model_id: number;
  version: string;
  archive_uri: string | null;
  archived_at: Date;
}

/** An archived version as restore sees it (locked). */
export interface ArchivedVersionRow {
  id: number;
  artifact_uri: string | null;
  archive_uri: string | null;
  archived_at: Date | null;
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

const ABANDONED_ERROR = 'abandoned: the instance running it stopped (its session lock is gone)';

/** A run whose owner died reads as abandoned at once (closeAbandonedRuns records it). */
const ABANDONED = `status = 'running' AND NOT ${RUN_IS_ALIVE}`;
const RUN_COLUMNS =
  `id, trigger, scheduled_for, CASE WHEN ${ABANDONED} THEN 'abandoned' ELSE status END AS status, dry_run, purge, model_id, retention_count, ` +
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
      `SELECT r.id, r.model_id, r.version, r.created_at, r.pinned, r.artifact_uri, r.artifact_key, r.size_bytes,
              EXISTS (SELECT 1 FROM model_aliases a WHERE a.version_id = r.id) AS aliased,
              EXISTS (SELECT 1 FROM provider_bindings b WHERE b.version_id = r.id AND b.status = 'active') AS has_active_binding
         FROM (SELECT v.id, v.model_id, v.version, v.created_at, v.pinned, v.artifact_uri, v.artifact_key, v.size_bytes,
                      row_number() OVER (PARTITION BY v.model_id ORDER BY v.created_at DESC, v.id DESC) AS rank
                 FROM model_versions v
                WHERE v.archived_at IS NULL AND v.model_id = ANY($1::bigint[])) r
        ORDER BY r.model_id, r.rank`,
      [models.map((m) => m.id)],
    );
    return { models, versions };
  }

  /** Takes the artifacts' locks (sorted, so two transactions never wait on each other in a cycle). */
  async lockArtifacts(keys: string[], manager: Queryable): Promise<void> {
    if (keys.length === 0) return;
    await manager.query(`SELECT pg_advisory_xact_lock($1, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY 1) s`, [
      ARTIFACT_LOCK_CLASS,
      keys,
    ]);
  }

  /**
   * Marks versions archived: each is locked first (so no binding can be activated or pin set
   * meanwhile), then re-checked — still live, still unprotected — in a fresh statement that sees
   * everything committed before the locks were granted. Returns the ids actually archived.
   */
  async markArchived(entries: { id: number; archive_uri: string | null }[], now: Date, manager: Queryable): Promise<Set<number>> {
    if (entries.length === 0) return new Set();
    const ids = entries.map((e) => e.id);
    await manager.query('SELECT id FROM model_versions WHERE id = ANY($1::bigint[]) AND archived_at IS NULL ORDER BY id FOR UPDATE', [ids]);
    const [rows]: [{ id: number }[], number] = await manager.query(
      `UPDATE model_versions v SET archived_at = $3, archive_uri = e.archive_uri, updated_at = $3
         FROM unnest($1::bigint[], $2::text[]) AS e(id, archive_uri)
        WHERE v.id = e.id AND v.archived_at IS NULL AND ${UNPROTECTED}
        RETURNING v.id`,
      [ids, entries.map((e) => e.archive_uri), now],
    );
    return new Set(rows.map((row) => Number(row.id)));
  }

  /**
   * Which of these artifacts a live version uses, with the version ids (excluded by the caller when
   * they are about to be archived too). Versions whose key was never computed are compared by
   * normalising their URI here, so none is missed.
   */
  async liveUsers(keys: string[], manager?: Queryable): Promise<Map<string, number[]>> {
    const users = new Map<string, number[]>();
    if (keys.length === 0) return users;
    const rows: { id: number; artifact_key: string | null; artifact_uri: string }[] = await (manager ?? this.dataSource).query(
      `SELECT id, artifact_key, artifact_uri FROM model_versions
        WHERE archived_at IS NULL AND (artifact_key = ANY($1::text[]) OR (artifact_key IS NULL AND artifact_uri IS NOT NULL))`,
      [keys],
    );
    const wanted = new Set(keys);
    for (const row of rows) {
      const key = row.artifact_key ?? artifactKey(row.artifact_uri);
      if (!wanted.has(key)) continue;
      const list = users.get(key);
      if (list) list.push(Number(row.id));
      else users.set(key, [Number(row.id)]);
    }
    return users;
  }

  /** Versions with an artifact but no key yet (written before keys existed, or by hand): up to `limit`. */
  async unkeyedVersions(limit: number): Promise<{ id: number; artifact_uri: string }[]> {
    return this.dataSource.query('SELECT id, artifact_uri FROM model_versions WHERE artifact_uri IS NOT NULL AND artifact_key IS NULL ORDER BY id LIMIT $1', [limit]);
  }

  async setArtifactKeys(entries: { id: number; key: string }[]): Promise<void> {
    if (entries.length === 0) return;
    await this.dataSource.query(
      `UPDATE model_versions v SET artifact_key = e.key FROM unnest($1::bigint[], $2::text[]) AS e(id, key) WHERE v.id = e.id AND v.artifact_key IS NULL`,
      [entries.map((e) => e.id), entries.map((e) => e.key)],
    );
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
   * cutoff, unprotected) and deletes their rows, with their (inactive) bindings. The release of each
   * archive copy is journaled by a trigger in the same transaction; the copy is deleted right after.
   */
  async purge(ids: number[], cutoff: Date): Promise<PurgeCandidate[]> {
    if (ids.length === 0) return [];
    return this.dataSource.transaction(async (manager) => {
      // The change feed reports these deletions as purges (see the events triggers).
      await manager.query(`SELECT set_config('model_registry.event_reason', 'purge', true)`);
      await manager.query('SELECT id FROM model_versions WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE', [ids]);
      const [removed]: [PurgeCandidate[], number] = await manager.query(
        `DELETE FROM model_versions v WHERE v.id = ANY($1::bigint[]) AND v.archived_at < $2 AND ${UNPROTECTED}
         RETURNING v.id, v.model_id, v.version, v.archive_uri, v.archived_at`,
        [ids, cutoff],
      );
      return removed.sort((a, b) => a.archived_at.getTime() - b.archived_at.getTime() || a.id - b.id);
    });
  }

  /** A version as restore sees it, locked in `manager`'s transaction when given; undefined when it does not exist. */
  async archivedVersion(id: number, manager?: Queryable): Promise<ArchivedVersionRow | undefined> {
    const rows = await (manager ?? this.dataSource).query(
      `SELECT id, artifact_uri, archive_uri, archived_at FROM model_versions WHERE id = $1${manager ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0];
  }

  async markRestored(id: number, manager: Queryable, now: Date): Promise<void> {
    await manager.query('UPDATE model_versions SET archived_at = NULL, archive_uri = NULL, updated_at = $2 WHERE id = $1', [id, now]);
  }

  // ---- runs

  /** Records a run as running and holds its lock on the run's own session (see RunSession). */
  async startRun(run: {
    trigger: RunTrigger;
    scheduledFor?: Date;
    dryRun: boolean;
    purge: boolean;
    modelId?: number;
    retentionCount?: number;
    storage: string;
    instance: string;
  }, alongside?: (session: Queryable, runId: number) => Promise<void>): Promise<RunSession | undefined> {
    return RunSession.start(
      this.dataSource,
      `INSERT INTO retention_runs (trigger, scheduled_for, dry_run, purge, model_id, retention_count, storage, instance)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (scheduled_for) WHERE trigger = 'scheduled' DO NOTHING
       RETURNING id`,
      [run.trigger, run.scheduledFor ?? null, run.dryRun, run.purge, run.modelId ?? null, run.retentionCount ?? null, run.storage, run.instance],
      alongside,
    );
  }

  async heartbeat(id: number): Promise<void> {
    await this.dataSource.query('UPDATE retention_runs SET heartbeat_at = now() WHERE id = $1', [id]);
  }

  /** Records a run's outcome — unless it was already recorded as abandoned (it lost its session meanwhile). */
  async finishRun(id: number, status: RunStatus, counts: RunCounts, error?: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE retention_runs
          SET status = $2, finished_at = now(), heartbeat_at = now(),
              duration_ms = (extract(epoch FROM now() - started_at) * 1000)::int,
              models_count = $3, kept_count = $4, archived_count = $5, archived_bytes = $6, failed_count = $7, purged_count = $8,
              failures = $9::jsonb, error = $10
        WHERE id = $1 AND status = 'running'`,
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

  /** Records runs left "running" by an instance that died as abandoned; returns their ids. */
  async closeAbandonedRuns(): Promise<number[]> {
    const [rows]: [{ id: number }[], number] = await this.dataSource.query(
      `UPDATE retention_runs SET status = 'abandoned', finished_at = heartbeat_at, error = '${ABANDONED_ERROR}' WHERE ${ABANDONED} RETURNING id`,
    );
    return rows.map((row) => Number(row.id));
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
