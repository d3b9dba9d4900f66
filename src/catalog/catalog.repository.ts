import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { BindingCatalogColumns } from '../bindings/bindings.repository';
import type { Requirement } from '../common/labels/selector';
import { selectorCondition } from '../common/labels/selector-sql';
import type { Queryable } from '../database/sql';
import type { RoutableCatalogBinding } from './openrouter';

/** Which version of each model a catalog describes; `default`: the alias if the model has it, else the newest. */
export type CatalogMode = 'alias' | 'default' | 'latest';

export interface CatalogFilter {
  mode: CatalogMode;
  alias: string | null;
  /** Matched against each binding's labels merged over its version's and its model's. */
  selector: Requirement[];
  /** LIKE patterns the model name must match one of (a model-restricted caller). */
  modelNameLike?: string[];
}

export interface CatalogRow extends RoutableCatalogBinding {
  model_id: number;
  version_id: number;
  version: string;
}

/** The new values of one binding's catalog fields. */
export interface ImportUpdate extends BindingCatalogColumns {
  id: number;
}

/** A binding as the import reads it (locked in a real run). */
export interface ImportBindingRow extends ImportUpdate {
  version_id: number;
  model_id: number;
  provider: string;
  provider_model_id: string;
}

@Injectable()
export class CatalogRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Every active binding of the version each model routes to (as resolve chooses it: the alias, or
   * the newest live version with an active binding), that the selector accepts; by model name, then id.
   * Prices come as numeric text so they convert to per-token prices exactly.
   */
  async activeBindings(filter: CatalogFilter): Promise<CatalogRow[]> {
    const params: unknown[] = [filter.alias, filter.mode];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const conditions = [selectorCondition(filter.selector, '(m.labels || v.labels || b.labels)', param)];
    if (filter.modelNameLike) conditions.push(`m.name LIKE ANY(${param(filter.modelNameLike)}::text[])`);
    const where = conditions.filter(Boolean).join(' AND ');
    return this.dataSource.query(
      `SELECT m.id AS model_id, m.name AS model_name, m.description AS model_description,
              v.id AS version_id, v.version, v.created_at AS version_created_at, v.slo_ok, v.cost_per_1k,
              b.id AS binding_id, b.provider, b.provider_model_id, b.endpoint_url,
              b.input_per_1m_tokens::text AS input_per_1m_tokens, b.output_per_1m_tokens::text AS output_per_1m_tokens, b.currency,
              b.context_window, b.max_output_tokens, b.capabilities, b.avg_latency_ms, b.success_rate
         FROM models m
         LEFT JOIN model_aliases a ON a.model_id = m.id AND a.alias = $1
         JOIN LATERAL (
           SELECT v.* FROM model_versions v
            WHERE v.model_id = m.id AND v.archived_at IS NULL
              AND CASE $2 WHEN 'alias' THEN v.id = a.version_id WHEN 'default' THEN (a.version_id IS NULL OR v.id = a.version_id) ELSE true END
              AND EXISTS (SELECT 1 FROM provider_bindings pb WHERE pb.version_id = v.id AND pb.status = 'active')
            ORDER BY v.created_at DESC, v.id DESC
            LIMIT 1) v ON true
         JOIN provider_bindings b ON b.version_id = v.id AND b.status = 'active'
        ${where ? `WHERE ${where}` : ''}
        ORDER BY m.name, b.id`,
      params,
    );
  }

  /** Bindings whose provider_model_id is one of `modelIds`, by id; locked when `lock` (a real import). */
  async importTargets(modelIds: string[], manager: Queryable, lock: boolean): Promise<ImportBindingRow[]> {
    if (modelIds.length === 0) return [];
    return manager.query(
      `SELECT b.id, b.version_id, v.model_id, b.provider, b.provider_model_id, b.input_per_1m_tokens, b.output_per_1m_tokens, b.currency,
              b.context_window, b.max_output_tokens, b.capabilities
         FROM provider_bindings b JOIN model_versions v ON v.id = b.version_id
        WHERE b.provider_model_id = ANY($1::text[])
        ORDER BY b.id${lock ? ' FOR UPDATE OF b' : ''}`,
      [modelIds],
    );
  }

  /** Sets the catalog fields of the given bindings (and nothing else) in one statement. */
  async applyImport(updates: ImportUpdate[], manager: Queryable): Promise<void> {
    if (updates.length === 0) return;
    await manager.query(
      `UPDATE provider_bindings b
          SET input_per_1m_tokens = u.input, output_per_1m_tokens = u.output, currency = u.currency,
              context_window = u.context_window, max_output_tokens = u.max_output_tokens,
              capabilities = string_to_array(u.capabilities, ','), updated_at = now()
         FROM unnest($1::bigint[], $2::numeric[], $3::numeric[], $4::text[], $5::int[], $6::int[], $7::text[])
              AS u(id, input, output, currency, context_window, max_output_tokens, capabilities)
        WHERE b.id = u.id`,
      [
        updates.map((u) => u.id),
        updates.map((u) => u.input_per_1m_tokens),
        updates.map((u) => u.output_per_1m_tokens),
        updates.map((u) => u.currency),
        updates.map((u) => u.context_window),
        updates.map((u) => u.max_output_tokens),
        updates.map((u) => u.capabilities.join(',')),
      ],
    );
  }
}
