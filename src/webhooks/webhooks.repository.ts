import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { keyset, toPage, withDescending, type Page, type SortAllowList } from '../common/pagination/keyset';
import { PreparedStatements } from '../database/prepared-statements';
import { setClause, SqlConditions, type Queryable } from '../database/sql';
import type { DisabledReason } from './webhook.entity';

export interface WebhookRow {
  id: number;
  url: string;
  events: string[];
  selector: string | null;
  model_id: number | null;
  description: string | null;
  enabled: boolean;
  disabled_reason: DisabledReason | null;
  disabled_at: Date | null;
  secret_ciphertext: string;
  previous_secret_ciphertext: string | null;
  previous_secret_expires_at: Date | null;
  start_snapshot: string;
  failing_since: Date | null;
  last_delivered_at: Date | null;
  created_at: Date;
  updated_at: Date;
  /** Deliveries waiting or being sent. */
  pending_deliveries: number;
}

export type NewWebhook = Pick<WebhookRow, 'url' | 'events' | 'selector' | 'model_id' | 'description' | 'enabled' | 'secret_ciphertext'>;

export type WebhookChanges = {
  url?: string;
  events?: string[];
  selector?: string | null;
  model_id?: number | null;
  description?: string | null;
  enabled?: boolean;
};

/** What the dispatcher needs of each enabled subscription. */
export interface SubscriptionRow {
  id: number;
  events: string[];
  selector: string | null;
  model_id: number | null;
  start_snapshot: string;
  updated_at: Date;
}

export interface WebhookFilter {
  enabled?: boolean;
  model_id?: number;
}

const COLUMNS =
  'w.id, w.url, w.events, w.selector, w.model_id, w.description, w.enabled, w.disabled_reason, w.disabled_at, w.secret_ciphertext, ' +
  'w.previous_secret_ciphertext, w.previous_secret_expires_at, w.start_snapshot, w.failing_since, w.last_delivered_at, w.created_at, w.updated_at, ' +
  "(SELECT count(*)::int FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status IN ('pending', 'sending')) AS pending_deliveries";
const BY_ID_SQL = `SELECT ${COLUMNS} FROM webhooks w WHERE w.id = $1`;

const SORTS: SortAllowList = withDescending({ created_at: { expression: 'w.created_at', cast: 'timestamptz' } });

const CHANGE_COLUMNS = { url: 'url', events: 'events', selector: 'selector', model_id: 'model_id', description: 'description' };

@Injectable()
export class WebhooksRepository {
  constructor(
    private readonly prepared: PreparedStatements,
    @InjectDataSource() readonly dataSource: DataSource,
  ) {}

  private db(manager?: Queryable): Queryable {
    return manager ?? this.prepared;
  }

  /** Inserts a subscription that receives the events of transactions committing after this statement. */
  async insert(webhook: NewWebhook, manager: Queryable): Promise<WebhookRow> {
    const rows: WebhookRow[] = await manager.query(
      `WITH w AS (
         INSERT INTO webhooks (url, events, selector, model_id, description, enabled, disabled_reason, disabled_at, secret_ciphertext, start_snapshot)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6 THEN NULL ELSE 'manual' END, CASE WHEN $6 THEN NULL ELSE now() END, $7, pg_current_snapshot()::text) RETURNING *)
       SELECT ${COLUMNS} FROM w`,
      [webhook.url, webhook.events, webhook.selector, webhook.model_id, webhook.description, webhook.enabled, webhook.secret_ciphertext],
    );
    return rows[0];
  }

  async findById(id: number, manager?: Queryable, options: { lock?: boolean } = {}): Promise<WebhookRow | undefined> {
    const rows: WebhookRow[] = await this.db(manager).query(options.lock ? `${BY_ID_SQL} FOR NO KEY UPDATE OF w` : BY_ID_SQL, [id]);
    return rows[0];
  }

  async listPage<T>(filter: WebhookFilter, sort: string, limit: number, pageToken: string | undefined, map: (row: WebhookRow) => T): Promise<Page<T>> {
    const where = new SqlConditions()
      .addIf(filter.enabled !== undefined, 'w.enabled = ?', filter.enabled)
      .addIf(filter.model_id !== undefined, 'w.model_id = ?', filter.model_id);
    const page = keyset(sort, SORTS, 'w.id', pageToken, { ...filter });
    if (page.after) where.add(page.after.sql, ...page.after.params);
    const rows: (WebhookRow & { sort_value: string })[] = await this.db().query(
      `SELECT ${COLUMNS}, ${page.sortValueSelect} FROM webhooks w ${where.where()} ORDER BY ${page.orderBy} LIMIT ${where.param(limit + 1)}`,
      where.params,
    );
    return toPage(rows, limit, sort, page.fingerprint, map);
  }

  /**
   * Applies the changes sent. Enabling clears the disabled state and the failure streak; disabling by
   * request records it as `manual`.
   */
  async update(id: number, changes: WebhookChanges, manager: Queryable): Promise<WebhookRow> {
    const set = setClause(changes, CHANGE_COLUMNS, 2);
    const params: unknown[] = [id, ...(set?.params ?? [])];
    const assignments = ['updated_at = now()', ...(set ? [set.sql] : [])];
    if (changes.enabled !== undefined) {
      params.push(changes.enabled);
      const on = `$${params.length}::boolean`;
      assignments.push(
        `enabled = ${on}`,
        `disabled_reason = CASE WHEN ${on} THEN NULL WHEN w.enabled THEN 'manual' ELSE w.disabled_reason END`,
        `disabled_at = CASE WHEN ${on} THEN NULL WHEN w.enabled THEN now() ELSE w.disabled_at END`,
        `failing_since = CASE WHEN ${on} AND NOT w.enabled THEN NULL ELSE w.failing_since END`,
      );
    }
    await manager.query(`UPDATE webhooks w SET ${assignments.join(', ')} WHERE w.id = $1`, params);
    return (await this.findById(id, manager))!;
  }

  /** The new secret signs from now on; the current one keeps signing beside it until `previousExpiresAt`. */
  async rotateSecret(id: number, secretCiphertext: string, previousValidMs: number, manager: Queryable): Promise<WebhookRow> {
    await manager.query(
      `UPDATE webhooks SET previous_secret_ciphertext = secret_ciphertext, previous_secret_expires_at = now() + make_interval(secs => $3::float8 / 1000),
              secret_ciphertext = $2, updated_at = now()
        WHERE id = $1`,
      [id, secretCiphertext, previousValidMs],
    );
    return (await this.findById(id, manager))!;
  }

  async delete(id: number, manager: Queryable): Promise<void> {
    await manager.query('DELETE FROM webhooks WHERE id = $1', [id]);
  }

  async modelExists(modelId: number): Promise<boolean> {
    const rows: unknown[] = await this.db().query('SELECT 1 FROM models WHERE id = $1', [modelId]);
    return rows.length > 0;
  }

  /**
   * The enabled subscriptions, locked FOR KEY SHARE: none can be deleted until the dispatcher's
   * transaction has written their deliveries (changes to them are not blocked).
   */
  async enabledSubscriptions(manager: Queryable): Promise<SubscriptionRow[]> {
    return manager.query('SELECT id, events, selector, model_id, start_snapshot, updated_at FROM webhooks WHERE enabled ORDER BY id FOR KEY SHARE');
  }

  /**
   * The labels a selector is matched against: each model's labels, also for models deleted since their
   * events were written (kept by a trigger until the dispatcher has passed them). Read through to_jsonb,
   * so the query does not depend on the models table's columns; a model without labels has `{}`.
   */
  async labelsOfModels(modelIds: number[], manager?: Queryable): Promise<Map<number, Record<string, string>>> {
    if (modelIds.length === 0) return new Map();
    const rows: { id: number; labels: Record<string, string> | null }[] = await this.db(manager).query(
      `SELECT m.id, m.labels FROM models m WHERE m.id = ANY($1::bigint[])
       UNION ALL
       SELECT t.model_id, t.labels FROM webhook_model_tombstones t
        WHERE t.model_id = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM models m WHERE m.id = t.model_id)`,
      [modelIds],
    );
    return new Map(rows.map((row) => [row.id, row.labels && typeof row.labels === 'object' ? row.labels : {}]));
  }

  /** Every stored secret, to re-encrypt those under an older key. */
  async allSecrets(manager: Queryable): Promise<{ id: number; secret_ciphertext: string; previous_secret_ciphertext: string | null }[]> {
    return manager.query('SELECT id, secret_ciphertext, previous_secret_ciphertext FROM webhooks ORDER BY id FOR NO KEY UPDATE');
  }

  async replaceSecrets(id: number, secretCiphertext: string, previousCiphertext: string | null, manager: Queryable): Promise<void> {
    await manager.query('UPDATE webhooks SET secret_ciphertext = $2, previous_secret_ciphertext = $3 WHERE id = $1', [id, secretCiphertext, previousCiphertext]);
  }
}
