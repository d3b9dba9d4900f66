import { Injectable } from '@nestjs/common';
import { formatSelector, type Requirement } from '../common/labels/selector';
import { selectorCondition } from '../common/labels/selector-sql';
import { keyset, toPage, withDescending, type ListQuery, type Page, type SortAllowList } from '../common/pagination/keyset';
import { PreparedStatements } from '../database/prepared-statements';
import { setClause, SqlConditions, type Queryable } from '../database/sql';
import type { BindingSort } from './dto/list-bindings-query.dto';
import type { BindingStatus } from './provider-binding.entity';
import type { EwmaUpdate } from './usage';

/** What a gateway needs to know of a deployment: price (per 1M tokens; all three or none), limits, capabilities. */
export interface BindingCatalogColumns {
  input_per_1m_tokens: number | null;
  output_per_1m_tokens: number | null;
  currency: string | null;
  context_window: number | null;
  max_output_tokens: number | null;
  capabilities: string[];
}

export interface BindingRow extends BindingCatalogColumns {
  id: number;
  version_id: number;
  model_id: number;
  provider: string;
  provider_model_id: string;
  status: BindingStatus;
  config: Record<string, unknown>;
  endpoint_url: string | null;
  avg_latency_ms: number | null;
  success_rate: number | null;
  last_used_at: Date | null;
  usage_samples: number;
  labels: Record<string, string>;
  created_at: Date;
  updated_at: Date;
}

export interface Pricing {
  input_per_1m_tokens: number;
  output_per_1m_tokens: number;
  currency: string;
}

export interface BindingFields {
  provider?: string;
  provider_model_id?: string;
  status?: BindingStatus;
  config?: Record<string, unknown>;
  endpoint_url?: string | null;
  avg_latency_ms?: number | null;
  success_rate?: number | null;
  labels?: Record<string, string>;
  /** null clears the pricing. */
  pricing?: Pricing | null;
  context_window?: number | null;
  max_output_tokens?: number | null;
  capabilities?: string[];
}

export interface NewBinding extends BindingFields {
  version_id: number;
  provider: string;
  provider_model_id: string;
}

export interface BindingFilter {
  version_id?: number;
  model_id?: number;
  provider?: string;
  status?: BindingStatus;
  selector?: Requirement[];
  /** LIKE patterns the binding's model name must match one of (a model-restricted caller). */
  model_name_like?: string[];
}

/** The version a binding hangs off, as far as binding rules care. */
export interface ParentVersion {
  model_id: number;
  archived_at: Date | null;
}

const COLUMNS =
  'b.id, b.version_id, v.model_id, b.provider, b.provider_model_id, b.status, b.config, b.endpoint_url, ' +
  'b.avg_latency_ms, b.success_rate, b.last_used_at, b.usage_samples, b.labels, b.input_per_1m_tokens, b.output_per_1m_tokens, b.currency, ' +
  'b.context_window, b.max_output_tokens, b.capabilities, b.created_at, b.updated_at';

const SORTS: SortAllowList = withDescending({
  created_at: { expression: 'b.created_at', cast: 'timestamptz' },
  provider: { expression: 'b.provider', cast: 'text' },
  avg_latency_ms: { expression: "COALESCE(b.avg_latency_ms, 'Infinity')", cast: 'float8' },
  success_rate: { expression: 'COALESCE(b.success_rate, -1)', cast: 'float8' },
});

/** The columns an update may set: the fields, with `pricing` spread over its three columns. */
const FIELD_COLUMNS: Record<Exclude<keyof BindingFields, 'pricing'> | keyof Pricing, string> = {
  provider: 'provider',
  provider_model_id: 'provider_model_id',
  status: 'status',
  config: 'config',
  endpoint_url: 'endpoint_url',
  avg_latency_ms: 'avg_latency_ms',
  success_rate: 'success_rate',
  labels: 'labels',
  input_per_1m_tokens: 'input_per_1m_tokens',
  output_per_1m_tokens: 'output_per_1m_tokens',
  currency: 'currency',
  context_window: 'context_window',
  max_output_tokens: 'max_output_tokens',
  capabilities: 'capabilities',
};

/** The pricing columns of a change: undefined (unchanged), all null (cleared) or all set. */
function pricingColumns(pricing: Pricing | null | undefined): Partial<Record<keyof Pricing, unknown>> {
  if (pricing === undefined) return {};
  return { input_per_1m_tokens: pricing?.input_per_1m_tokens ?? null, output_per_1m_tokens: pricing?.output_per_1m_tokens ?? null, currency: pricing?.currency ?? null };
}

/** Folds usage into a binding's moving averages ($1 id; see applyUsageParams). */
export const APPLY_USAGE_SQL = `WITH b AS (
         UPDATE provider_bindings SET
           avg_latency_ms = CASE WHEN NOT $2 THEN avg_latency_ms
                                 WHEN avg_latency_ms IS NULL THEN GREATEST(0, $3::float8)
                                 ELSE GREATEST(0, avg_latency_ms * $4::float8 + $5::float8) END,
           success_rate = CASE WHEN success_rate IS NULL THEN LEAST(1, GREATEST(0, $6::float8))
                               ELSE LEAST(1, GREATEST(0, success_rate * $7::float8 + $8::float8)) END,
           last_used_at = now(),
           usage_samples = usage_samples + $9
         WHERE id = $1 RETURNING *)
       SELECT ${COLUMNS} FROM b JOIN model_versions v ON v.id = b.version_id`;

export function applyUsageParams(id: number, latency: EwmaUpdate | undefined, success: EwmaUpdate, samples: number): unknown[] {
  return [id, latency !== undefined, latency?.initial ?? 0, latency?.factor ?? 1, latency?.contribution ?? 0, success.initial, success.factor, success.contribution, samples];
}

@Injectable()
export class BindingsRepository {
  constructor(private readonly prepared: PreparedStatements) {}

  private db(manager?: Queryable): Queryable {
    return manager ?? this.prepared;
  }

  /**
   * Reads the version a binding will hang off with FOR SHARE: while the transaction lasts, nothing
   * (e.g. retention) can archive or delete it.
   */
  async lockParentVersion(versionId: number, manager: Queryable): Promise<ParentVersion | undefined> {
    const rows: ParentVersion[] = await manager.query('SELECT model_id, archived_at FROM model_versions WHERE id = $1 FOR SHARE', [versionId]);
    return rows[0];
  }

  async insert(binding: NewBinding, manager: Queryable): Promise<BindingRow> {
    const rows: BindingRow[] = await manager.query(
      `WITH b AS (
         INSERT INTO provider_bindings (version_id, provider, provider_model_id, status, config, endpoint_url, avg_latency_ms, success_rate,
                                        labels, input_per_1m_tokens, output_per_1m_tokens, currency, context_window, max_output_tokens, capabilities)
         VALUES ($1, $2, $3, COALESCE($4, 'active'), COALESCE($5::jsonb, '{}'::jsonb), $6, $7, $8,
                 COALESCE($9::jsonb, '{}'::jsonb), $10, $11, $12, $13, $14, COALESCE($15::text[], '{}'))
         RETURNING *)
       SELECT ${COLUMNS} FROM b JOIN model_versions v ON v.id = b.version_id`,
      [
        binding.version_id,
        binding.provider,
        binding.provider_model_id,
        binding.status ?? null,
        binding.config === undefined ? null : JSON.stringify(binding.config),
        binding.endpoint_url ?? null,
        binding.avg_latency_ms ?? null,
        binding.success_rate ?? null,
        binding.labels === undefined ? null : JSON.stringify(binding.labels),
        binding.pricing?.input_per_1m_tokens ?? null,
        binding.pricing?.output_per_1m_tokens ?? null,
        binding.pricing?.currency ?? null,
        binding.context_window ?? null,
        binding.max_output_tokens ?? null,
        binding.capabilities ?? null,
      ],
    );
    return rows[0];
  }

  async findById(id: number, manager?: Queryable, options: { lock?: boolean } = {}): Promise<BindingRow | undefined> {
    const rows: BindingRow[] = await this.db(manager).query(
      `SELECT ${COLUMNS} FROM provider_bindings b JOIN model_versions v ON v.id = b.version_id WHERE b.id = $1${options.lock ? ' FOR UPDATE OF b' : ''}`,
      [id],
    );
    return rows[0];
  }

  /** The list query exactly as listPage runs it (also used to check its plan in tests). */
  buildListQuery(filter: BindingFilter, sort: BindingSort, limit: number, pageToken: string | undefined): ListQuery {
    const where = new SqlConditions()
      .addIf(filter.version_id !== undefined, 'b.version_id = ?', filter.version_id)
      .addIf(filter.model_id !== undefined, 'v.model_id = ?', filter.model_id)
      .addIf(filter.provider !== undefined, 'b.provider = ?', filter.provider)
      .addIf(filter.status !== undefined, 'b.status = ?', filter.status)
      .addIf(filter.model_name_like !== undefined, 'v.model_id IN (SELECT id FROM models WHERE name LIKE ANY(?::text[]))', filter.model_name_like);
    const selector = selectorCondition(filter.selector ?? [], 'b.labels', (value) => where.param(value));
    if (selector) where.add(selector);
    const page = keyset(sort, SORTS, 'b.id', pageToken, { ...filter, selector: filter.selector && formatSelector(filter.selector) });
    if (page.after) where.add(page.after.sql, ...page.after.params);
    return {
      sql: `SELECT ${COLUMNS}, ${page.sortValueSelect}
         FROM provider_bindings b JOIN model_versions v ON v.id = b.version_id
         ${where.where()} ORDER BY ${page.orderBy} LIMIT ${where.param(limit + 1)}`,
      params: where.params,
      fingerprint: page.fingerprint,
    };
  }

  async listPage<T>(filter: BindingFilter, sort: BindingSort, limit: number, pageToken: string | undefined, map: (row: BindingRow) => T): Promise<Page<T>> {
    const query = this.buildListQuery(filter, sort, limit, pageToken);
    const rows: (BindingRow & { sort_value: string })[] = await this.db().query(query.sql, query.params);
    return toPage(rows, limit, sort, query.fingerprint, map);
  }


  async update(id: number, changes: BindingFields, manager: Queryable): Promise<BindingRow | undefined> {
    const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));
    const { pricing, ...rest } = changes;
    const values = { ...rest, config: json(changes.config), labels: json(changes.labels), ...pricingColumns(pricing) };
    const set = setClause(values, FIELD_COLUMNS, 2);
    if (!set) return this.findById(id, manager);
    const rows: BindingRow[] = await manager.query(
      `WITH b AS (UPDATE provider_bindings SET ${set.sql}, updated_at = now() WHERE id = $1 RETURNING *)
       SELECT ${COLUMNS} FROM b JOIN model_versions v ON v.id = b.version_id`,
      [id, ...set.params],
    );
    return rows[0];
  }

  /**
   * Folds usage into the moving averages in one UPDATE: the row lock applies concurrent reports one
   * after another, each whole, so no sample is lost. Clamped to the column ranges against rounding.
   */
  async applyUsage(id: number, latency: EwmaUpdate | undefined, success: EwmaUpdate, samples: number): Promise<BindingRow | undefined> {
    const rows: BindingRow[] = await this.db().query(APPLY_USAGE_SQL, applyUsageParams(id, latency, success, samples));
    return rows[0];
  }

  async delete(id: number, manager: Queryable): Promise<void> {
    await manager.query('DELETE FROM provider_bindings WHERE id = $1', [id]);
  }
}
