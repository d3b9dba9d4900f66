import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Queryable } from '../database/sql';
import type { JournalState } from './retention-journal.entity';
import type { ArtifactIdentity } from './storage/archive-storage';

export interface JournalEntry {
  id: number;
  state: JournalState;
  version_id: number;
  run_id: number | null;
  artifact_uri: string | null;
  artifact_key: string | null;
  archive_uri: string | null;
  temp_name: string | null;
  source_identity: ArtifactIdentity | null;
}

const ENTRY_COLUMNS = 'id, state, version_id, run_id, artifact_uri, artifact_key, archive_uri, temp_name, source_identity';

/** The retention journal (see RetentionJournalEntity): each item's progress, written before each step. */
@Injectable()
export class JournalRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  private db(manager?: Queryable): Queryable {
    return manager ?? this.dataSource;
  }

  /** Records artifacts about to be copied into the archive; returns each version's entry id. */
  async startCopies(
    runId: number,
    items: { version_id: number; artifact_uri: string; artifact_key: string; archive_uri: string; temp_name: string }[],
  ): Promise<Map<number, number>> {
    if (items.length === 0) return new Map();
    const rows: { id: number; version_id: number }[] = await this.dataSource.query(
      `INSERT INTO retention_journal (state, run_id, version_id, artifact_uri, artifact_key, archive_uri, temp_name)
       SELECT 'copying', $1, e.version_id, e.artifact_uri, e.artifact_key, e.archive_uri, e.temp_name
         FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS e(version_id, artifact_uri, artifact_key, archive_uri, temp_name)
       RETURNING id, version_id`,
      [
        runId,
        items.map((i) => i.version_id),
        items.map((i) => i.artifact_uri),
        items.map((i) => i.artifact_key),
        items.map((i) => i.archive_uri),
        items.map((i) => i.temp_name),
      ],
    );
    return new Map(rows.map((row) => [row.version_id, row.id]));
  }

  /** Records a restore about to put an archive copy back. */
  async startRestore(entry: { version_id: number; artifact_uri: string; artifact_key: string; archive_uri: string; temp_name: string }): Promise<number> {
    const rows: { id: number }[] = await this.dataSource.query(
      `INSERT INTO retention_journal (state, version_id, artifact_uri, artifact_key, archive_uri, temp_name)
       VALUES ('restoring', $1, $2, $3, $4, $5) RETURNING id`,
      [entry.version_id, entry.artifact_uri, entry.artifact_key, entry.archive_uri, entry.temp_name],
    );
    return rows[0].id;
  }

  /** Locks the given entries that are still in `states` (another instance's recovery may have moved them on). */
  async lockInState(ids: number[], states: JournalState[], manager: Queryable): Promise<JournalEntry[]> {
    if (ids.length === 0) return [];
    return manager.query(`SELECT ${ENTRY_COLUMNS} FROM retention_journal WHERE id = ANY($1::bigint[]) AND state = ANY($2::text[]) ORDER BY id FOR UPDATE`, [ids, states]);
  }

  async transition(changes: { id: number; state: JournalState; identity?: ArtifactIdentity | null }[], manager?: Queryable): Promise<void> {
    if (changes.length === 0) return;
    await this.db(manager).query(
      `UPDATE retention_journal j
          SET state = e.state, source_identity = COALESCE(e.identity, j.source_identity), updated_at = now()
         FROM unnest($1::bigint[], $2::text[], $3::jsonb[]) AS e(id, state, identity)
        WHERE j.id = e.id`,
      [changes.map((c) => c.id), changes.map((c) => c.state), changes.map((c) => (c.identity ? JSON.stringify(c.identity) : null))],
    );
  }

  async remove(ids: number[], manager?: Queryable): Promise<void> {
    if (ids.length === 0) return;
    await this.db(manager).query('DELETE FROM retention_journal WHERE id = ANY($1::bigint[])', [ids]);
  }

  /** A version's entries about its original (kept or to delete), e.g. for restoring it in place. */
  async originalsOf(versionId: number, manager?: Queryable): Promise<JournalEntry[]> {
    return this.db(manager).query(
      `SELECT ${ENTRY_COLUMNS} FROM retention_journal WHERE version_id = $1 AND state IN ('delete_original', 'keep_original') ORDER BY id`,
      [versionId],
    );
  }

  /** Forgets what the journal holds about a version's original (it is live again). */
  async forgetOriginals(versionId: number, manager: Queryable): Promise<void> {
    await manager.query(`DELETE FROM retention_journal WHERE version_id = $1 AND state IN ('delete_original', 'keep_original')`, [versionId]);
  }

  /** Entries in `state` after `afterId`, oldest first. */
  async page(state: JournalState, afterId: number, limit: number): Promise<JournalEntry[]> {
    return this.dataSource.query(`SELECT ${ENTRY_COLUMNS} FROM retention_journal WHERE state = $1 AND id > $2 ORDER BY id LIMIT $3`, [state, afterId, limit]);
  }

  /** Kept originals that no live version uses any more: they can go now. */
  async unsharedKeptOriginals(afterId: number, limit: number): Promise<JournalEntry[]> {
    return this.dataSource.query(
      `SELECT ${ENTRY_COLUMNS} FROM retention_journal j
        WHERE j.state = 'keep_original' AND j.id > $1
          AND NOT EXISTS (SELECT 1 FROM model_versions v WHERE v.archived_at IS NULL AND v.artifact_key = j.artifact_key)
        ORDER BY j.id LIMIT $2`,
      [afterId, limit],
    );
  }

  /** Archive locations still in use: referenced by a version, or being written by an unfinished copy or restore. */
  async archiveUrisInUse(uris: string[], manager?: Queryable): Promise<Set<string>> {
    if (uris.length === 0) return new Set();
    const rows: { uri: string }[] = await this.db(manager).query(
      `SELECT archive_uri AS uri FROM model_versions WHERE archive_uri = ANY($1::text[])
       UNION SELECT archive_uri FROM retention_journal WHERE state IN ('copying', 'restoring') AND archive_uri = ANY($1::text[])`,
      [uris],
    );
    return new Set(rows.map((row) => row.uri));
  }

  /** How many entries each state holds (for the recovery log line and tests). */
  async counts(): Promise<Record<string, number>> {
    const rows: { state: string; n: number }[] = await this.dataSource.query('SELECT state, count(*)::int AS n FROM retention_journal GROUP BY state');
    return Object.fromEntries(rows.map((row) => [row.state, row.n]));
  }
}
