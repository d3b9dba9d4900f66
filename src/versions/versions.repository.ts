import { Injectable } from '@nestjs/common';
import { formatSelector, type Requirement } from '../common/labels/selector';
import { selectorCondition } from '../common/labels/selector-sql';
import { keyset, toPage, withDescending, type ListQuery, type Page, type SortAllowList } from '../common/pagination/keyset';
import { PreparedStatements } from '../database/prepared-statements';
import { setClause, SqlConditions, type Queryable } from '../database/sql';
import type { VersionSort } from './dto/list-versions-query.dto';

export interface VersionRow {
  id: number;
  model_id: number;
  hash: string;
  version: string;
  region: string | null;
  cost_per_1k: number | null;
  eval_score: number | null;
  slo_ok: boolean;
  pinned: boolean;
  artifact_uri: string | null;
  archive_uri: string | null;
  size_bytes: number | null;
  model_type: string | null;
  framework: string | null;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
  aliases: string[];
  labels: Record<string, string>;
  source: string | null;
  metadata: Record<string, unknown>;
}

/** The descriptive fields a client may set; undefined means "not given". */
export interface VersionFields {
  region?: string | null;
  cost_per_1k?: number | null;
  eval_score?: number | null;
  slo_ok?: boolean;
  pinned?: boolean;
  artifact_uri?: string | null;
  size_bytes?: number | null;
  model_type?: string | null;
  framework?: string | null;
  labels?: Record<string, string>;
  source?: string | null;
  metadata?: Record<string, unknown>;
}

/** What an update writes: the client's fields, and the artifact's normalised key whenever artifact_uri is written. */
export interface VersionChanges extends VersionFields {
  artifact_key?: string | null;
}

export interface NewVersion extends VersionChanges {
  model_id: number;
  hash: string;
  version: string;
  version_sort_key: string;
}

/** Advisory lock class of artifact keys: pg_advisory_xact_lock(ARTIFACT_LOCK_CLASS, hashtext(key)), as the trigger on model_versions takes it. */
export const ARTIFACT_LOCK_CLASS = 72184;

export interface VersionFilter {
  model_id?: number;
  region?: string;
  framework?: string;
  model_type?: string;
  slo_ok?: boolean;
  archived?: boolean;
  min_eval_score?: number;
  max_cost_per_1k?: number;
  selector?: Requirement[];
  /** LIKE patterns the version's model name must match one of (a model-restricted caller). */
  model_name_like?: string[];
}

export const VERSION_COLUMNS =
  'v.id, v.model_id, v.hash, v.version, v.region, v.cost_per_1k, v.eval_score, v.slo_ok, v.pinned, v.artifact_uri, v.archive_uri, ' +
  'v.size_bytes, v.model_type, v.framework, v.created_at, v.updated_at, v.archived_at, v.labels, v.source, v.metadata, ' +
  'ARRAY(SELECT a.alias FROM model_aliases a WHERE a.version_id = v.id ORDER BY a.alias) AS aliases';

/** Each sort's expression matches an index of the initial migration exactly (NULLs folded by COALESCE). */
const SORTS: SortAllowList = withDescending({
  created_at: { expression: 'v.created_at', cast: 'timestamptz' },
  version: { expression: 'v.version_sort_key', cast: 'text' },
  eval_score: { expression: 'COALESCE(v.eval_score, -1)', cast: 'float8' },
  cost_per_1k: { expression: "COALESCE(v.cost_per_1k, 'Infinity')", cast: 'numeric' },
});

const FIELD_COLUMNS: Record<keyof VersionChanges, string> = {
  region: 'region',
  cost_per_1k: 'cost_per_1k',
  eval_score: 'eval_score',
  slo_ok: 'slo_ok',
  pinned: 'pinned',
  artifact_uri: 'artifact_uri',
  artifact_key: 'artifact_key',
  size_bytes: 'size_bytes',
  model_type: 'model_type',
  framework: 'framework',
  labels: 'labels',
  source: 'source',
  metadata: 'metadata',
};

/**
 * Inserts a version unless its (model_id, hash) or (model_id, version) exists; returns it, or nothing.
 * archive_uri is the service's: a new version has none. Inserting an artifact_key takes the artifact's
 * lock (trigger), so retention cannot decide the artifact is unshared while this registration commits.
 */
export const INSERT_VERSION_SQL = `INSERT INTO model_versions AS v
         (model_id, hash, version, version_sort_key, region, cost_per_1k, eval_score, slo_ok,
          artifact_uri, size_bytes, model_type, framework, pinned, labels, source, metadata, artifact_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, true), $9, $10, $11, $12, COALESCE($13, false),
               COALESCE($14::jsonb, '{}'::jsonb), $15, COALESCE($16::jsonb, '{}'::jsonb), $17)
       ON CONFLICT DO NOTHING
       RETURNING ${VERSION_COLUMNS}`;

export function insertVersionParams(version: NewVersion): unknown[] {
  return [
    version.model_id,
    version.hash,
    version.version,
    version.version_sort_key,
    version.region ?? null,
    version.cost_per_1k ?? null,
    version.eval_score ?? null,
    version.slo_ok ?? null,
    version.artifact_uri ?? null,
    version.size_bytes ?? null,
    version.model_type ?? null,
    version.framework ?? null,
    version.pinned ?? null,
    version.labels === undefined ? null : JSON.stringify(version.labels),
    version.source ?? null,
    version.metadata === undefined ? null : JSON.stringify(version.metadata),
    version.artifact_key ?? null,
  ];
}

/** The SQL of a versions list page (keyset on the sort key and id). */
export function versionListQuery(filter: VersionFilter, sort: VersionSort, limit: number, pageToken: string | undefined): ListQuery {
  const where = new SqlConditions()
    .addIf(filter.model_id !== undefined, 'v.model_id = ?', filter.model_id)
    .addIf(filter.region !== undefined, 'v.region = ?', filter.region)
    .addIf(filter.framework !== undefined, 'v.framework = ?', filter.framework)
    .addIf(filter.model_type !== undefined, 'v.model_type = ?', filter.model_type)
    .addIf(filter.slo_ok !== undefined, 'v.slo_ok = ?', filter.slo_ok)
    .addIf(filter.archived === true, 'v.archived_at IS NOT NULL')
    .addIf(filter.archived === false, 'v.archived_at IS NULL')
    .addIf(filter.min_eval_score !== undefined, 'v.eval_score >= ?', filter.min_eval_score)
    .addIf(filter.max_cost_per_1k !== undefined, 'v.cost_per_1k <= ?', filter.max_cost_per_1k)
    .addIf(filter.model_name_like !== undefined, 'v.model_id IN (SELECT id FROM models WHERE name LIKE ANY(?::text[]))', filter.model_name_like);
  const selector = selectorCondition(filter.selector ?? [], 'v.labels', (value) => where.param(value));
  if (selector) where.add(selector);
  const page = keyset(sort, SORTS, 'v.id', pageToken, { ...filter, selector: filter.selector && formatSelector(filter.selector) });
  if (page.after) where.add(page.after.sql, ...page.after.params);
  return {
    sql: `SELECT ${VERSION_COLUMNS}, ${page.sortValueSelect} FROM model_versions v ${where.where()} ORDER BY ${page.orderBy} LIMIT ${where.param(limit + 1)}`,
    params: where.params,
    fingerprint: page.fingerprint,
  };
}

@Injectable()
export class VersionsRepository {
  constructor(private readonly prepared: PreparedStatements) {}

  private db(manager?: Queryable): Queryable {
    return manager ?? this.prepared;
  }

  /**
   * Inserts unless (model_id, hash) or (model_id, version) already exists; the unique constraints
   * decide, so concurrent identical registrations produce exactly one row. Undefined when it existed.
   */
  async insertIfAbsent(version: NewVersion, manager?: Queryable): Promise<VersionRow | undefined> {
    const rows: VersionRow[] = await this.db(manager).query(INSERT_VERSION_SQL, insertVersionParams(version));
    return rows[0];
  }

  /** Versions of the model that share the hash or the version string. */
  async findClashing(modelId: number, hash: string, version: string): Promise<VersionRow[]> {
    return this.db().query(`SELECT ${VERSION_COLUMNS} FROM model_versions v WHERE v.model_id = $1 AND (v.hash = $2 OR v.version = $3) ORDER BY v.id`, [
      modelId,
      hash,
      version,
    ]);
  }

  async findById(id: number, manager?: Queryable, options: { lock?: boolean } = {}): Promise<VersionRow | undefined> {
    const rows: VersionRow[] = await this.db(manager).query(
      `SELECT ${VERSION_COLUMNS} FROM model_versions v WHERE v.id = $1${options.lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0];
  }

  /** The list query exactly as listPage runs it (also used to check its plan in tests). */
  buildListQuery(filter: VersionFilter, sort: VersionSort, limit: number, pageToken: string | undefined): ListQuery {
    return versionListQuery(filter, sort, limit, pageToken);
  }

  async listPage<T>(filter: VersionFilter, sort: VersionSort, limit: number, pageToken: string | undefined, map: (row: VersionRow) => T): Promise<Page<T>> {
    const query = this.buildListQuery(filter, sort, limit, pageToken);
    const rows: (VersionRow & { sort_value: string })[] = await this.db().query(query.sql, query.params);
    return toPage(rows, limit, sort, query.fingerprint, map);
  }


  /**
   * Takes the artifact's lock for the caller's transaction — before any row lock, the order retention
   * takes them in — so a version cannot start using an artifact retention is deciding about.
   */
  async lockArtifact(key: string, manager: Queryable): Promise<void> {
    await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ARTIFACT_LOCK_CLASS, key]);
  }

  async update(id: number, changes: VersionChanges, manager?: Queryable): Promise<VersionRow | undefined> {
    const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));
    const set = setClause({ ...changes, labels: json(changes.labels), metadata: json(changes.metadata) }, FIELD_COLUMNS, 2);
    if (!set) return this.findById(id, manager);
    const [rows]: [VersionRow[], number] = await this.db(manager).query(
      `UPDATE model_versions v SET ${set.sql}, updated_at = now() WHERE v.id = $1 RETURNING ${VERSION_COLUMNS}`,
      [id, ...set.params],
    );
    return rows[0];
  }

  /** Aliases pointing at the version (locked: none can be added while the caller's transaction lasts). */
  async lockAliases(versionId: number, manager: Queryable): Promise<string[]> {
    const rows: { alias: string }[] = await manager.query('SELECT alias FROM model_aliases WHERE version_id = $1 ORDER BY alias FOR UPDATE', [versionId]);
    return rows.map((row) => row.alias);
  }

  /** Locks the version's bindings (no activation can slip in) and returns the ids of the active ones. */
  async lockBindingsAndListActive(versionId: number, manager: Queryable): Promise<number[]> {
    const rows: { id: number; status: string }[] = await manager.query(
      'SELECT id, status FROM provider_bindings WHERE version_id = $1 ORDER BY id FOR UPDATE',
      [versionId],
    );
    return rows.filter((row) => row.status === 'active').map((row) => row.id);
  }

  async delete(id: number, manager: Queryable): Promise<void> {
    await manager.query('DELETE FROM model_versions WHERE id = $1', [id]);
  }
}
