import { Injectable } from '@nestjs/common';
import { formatSelector, type Requirement } from '../common/labels/selector';
import { selectorCondition } from '../common/labels/selector-sql';
import { keyset, toPage, withDescending, type ListQuery, type Page, type SortAllowList } from '../common/pagination/keyset';
import { PreparedStatements } from '../database/prepared-statements';
import { likeContains, setClause, SqlConditions, type Queryable } from '../database/sql';
import type { ModelSort } from './dto/list-models-query.dto';

export interface ModelRow {
  id: number;
  name: string;
  task: string;
  subject: string;
  description: string | null;
  retention_count: number | null;
  labels: Record<string, string>;
  /** Alias name → version id. */
  aliases: Record<string, number>;
  created_at: Date;
  updated_at: Date;
}

export interface NewModel {
  name: string;
  task: string;
  subject: string;
  description: string | null;
  retention_count: number | null;
  labels: Record<string, string>;
}

export type ModelChanges = Partial<NewModel>;

export interface ModelFilter {
  task?: string;
  subject?: string;
  q?: string;
  selector?: Requirement[];
  /** LIKE patterns the name must match one of (a model-restricted caller). */
  name_like?: string[];
}

const SORTS: SortAllowList = withDescending({
  name: { expression: 'm.name', cast: 'text' },
  created_at: { expression: 'm.created_at', cast: 'timestamptz' },
  updated_at: { expression: 'm.updated_at', cast: 'timestamptz' },
});

const COLUMNS =
  'm.id, m.name, m.task, m.subject, m.description, m.retention_count, m.labels, m.created_at, m.updated_at, ' +
  "COALESCE((SELECT jsonb_object_agg(a.alias, a.version_id) FROM model_aliases a WHERE a.model_id = m.id), '{}'::jsonb) AS aliases";
export const MODEL_BY_ID_SQL = `SELECT ${COLUMNS} FROM models m WHERE m.id = $1`;
export const MODEL_BY_NAME_SQL = `SELECT ${COLUMNS} FROM models m WHERE m.name = $1`;

const CHANGE_COLUMNS = { name: 'name', task: 'task', subject: 'subject', description: 'description', retention_count: 'retention_count', labels: 'labels' };

@Injectable()
export class ModelsRepository {
  constructor(private readonly prepared: PreparedStatements) {}

  private db(manager?: Queryable): Queryable {
    return manager ?? this.prepared;
  }

  async insert(model: NewModel, manager?: Queryable): Promise<ModelRow> {
    const rows: ModelRow[] = await this.db(manager).query(
      `INSERT INTO models AS m (name, task, subject, description, retention_count, labels) VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING ${COLUMNS}`,
      [model.name, model.task, model.subject, model.description, model.retention_count, JSON.stringify(model.labels)],
    );
    return rows[0];
  }

  async findById(id: number, manager?: Queryable, options: { lock?: boolean } = {}): Promise<ModelRow | undefined> {
    const rows: ModelRow[] = await this.db(manager).query(options.lock ? `${MODEL_BY_ID_SQL} FOR UPDATE` : MODEL_BY_ID_SQL, [id]);
    return rows[0];
  }

  async findNames(ids: number[]): Promise<{ id: number; name: string; retention_count: number | null }[]> {
    if (ids.length === 0) return [];
    return this.db().query('SELECT id, name, retention_count FROM models WHERE id = ANY($1::bigint[])', [ids]);
  }

  async findByName(name: string): Promise<ModelRow | undefined> {
    const rows: ModelRow[] = await this.db().query(MODEL_BY_NAME_SQL, [name]);
    return rows[0];
  }

  /** The list query exactly as listPage runs it (also used to check its plan in tests). */
  buildListQuery(filter: ModelFilter, sort: ModelSort, limit: number, pageToken: string | undefined): ListQuery {
    const where = new SqlConditions()
      .addIf(filter.task !== undefined, 'm.task = ?', filter.task)
      .addIf(filter.subject !== undefined, 'm.subject = ?', filter.subject)
      .addIf(filter.q !== undefined, 'm.name LIKE ?', filter.q !== undefined ? likeContains(filter.q.toLowerCase()) : undefined)
      .addIf(filter.name_like !== undefined, 'm.name LIKE ANY(?::text[])', filter.name_like);
    const selector = selectorCondition(filter.selector ?? [], 'm.labels', (value) => where.param(value));
    if (selector) where.add(selector);
    const page = keyset(sort, SORTS, 'm.id', pageToken, { ...filter, selector: filter.selector && formatSelector(filter.selector) });
    if (page.after) where.add(page.after.sql, ...page.after.params);
    return {
      sql: `SELECT ${COLUMNS}, ${page.sortValueSelect} FROM models m ${where.where()} ORDER BY ${page.orderBy} LIMIT ${where.param(limit + 1)}`,
      params: where.params,
      fingerprint: page.fingerprint,
    };
  }

  async listPage<T>(filter: ModelFilter, sort: ModelSort, limit: number, pageToken: string | undefined, map: (row: ModelRow) => T): Promise<Page<T>> {
    const query = this.buildListQuery(filter, sort, limit, pageToken);
    const rows: (ModelRow & { sort_value: string })[] = await this.db().query(query.sql, query.params);
    return toPage(rows, limit, sort, query.fingerprint, map);
  }


  async update(id: number, changes: ModelChanges, manager?: Queryable): Promise<ModelRow | undefined> {
    const set = setClause({ ...changes, labels: changes.labels === undefined ? undefined : JSON.stringify(changes.labels) }, CHANGE_COLUMNS, 2);
    if (!set) return this.findById(id, manager);
    const rows: [ModelRow[], number] = await this.db(manager).query(
      `UPDATE models m SET ${set.sql}, updated_at = now() WHERE m.id = $1 RETURNING ${COLUMNS}`,
      [id, ...set.params],
    );
    return rows[0][0];
  }

  /**
   * Locks every version and binding of the model (so no binding can be created or activated under it
   * until the transaction ends) and returns the ids of its active bindings.
   */
  async lockSubtreeAndListActiveBindings(modelId: number, manager: Queryable): Promise<number[]> {
    await manager.query('SELECT id FROM model_versions WHERE model_id = $1 ORDER BY id FOR UPDATE', [modelId]);
    const rows: { id: number; status: string }[] = await manager.query(
      `SELECT b.id, b.status FROM provider_bindings b JOIN model_versions v ON v.id = b.version_id
        WHERE v.model_id = $1 ORDER BY b.id FOR UPDATE OF b`,
      [modelId],
    );
    return rows.filter((row) => row.status === 'active').map((row) => row.id);
  }

  async delete(id: number, manager?: Queryable): Promise<void> {
    await this.db(manager).query('DELETE FROM models WHERE id = $1', [id]);
  }
}
