import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatements } from '../database/prepared-statements';
import { readCounters, type CounterValues } from '../database/registry-counters';

export interface Extremes {
  eval_min: number | null;
  eval_max: number | null;
  cost_min: number | null;
  cost_max: number | null;
  newest_version_at: Date | null;
  newest_model_at: Date | null;
}

export interface RetentionFigures {
  purged_total: number;
  runs_total: number;
  last_run_at: Date | null;
  last_run_status: string | null;
}

/** What one model's rows add up to (computed on the fly: a model has few versions). */
export interface ModelFigures extends Omit<Extremes, 'newest_model_at'> {
  task: string;
  created_at: Date;
  versions_total: number;
  versions_live: number;
  versions_archived: number;
  archived_bytes: number;
  slo_ok_live: number;
  eval_count: number;
  eval_mean: number | null;
  cost_count: number;
  cost_mean: number | null;
  by_framework: Record<string, number>;
  bindings_by_provider: Record<string, number>;
  bindings_by_status: Record<string, number>;
}

/** Minimums and maximums over live versions and the newest registrations: each one index lookup. */
export const EXTREMES_SQL = `SELECT (SELECT min(eval_score) FROM model_versions WHERE archived_at IS NULL AND eval_score IS NOT NULL) AS eval_min,
              (SELECT max(eval_score) FROM model_versions WHERE archived_at IS NULL AND eval_score IS NOT NULL) AS eval_max,
              (SELECT min(cost_per_1k) FROM model_versions WHERE archived_at IS NULL AND cost_per_1k IS NOT NULL) AS cost_min,
              (SELECT max(cost_per_1k) FROM model_versions WHERE archived_at IS NULL AND cost_per_1k IS NOT NULL) AS cost_max,
              (SELECT max(created_at) FROM model_versions) AS newest_version_at,
              (SELECT max(created_at) FROM models) AS newest_model_at`;

@Injectable()
export class StatsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly prepared: PreparedStatements,
  ) {}

  counters(): Promise<CounterValues> {
    return readCounters(this.prepared, ['models.', 'versions.', 'bindings.']);
  }

  /** Each is one index lookup (partial indexes on live scores and costs; created_at indexes). */
  async extremes(): Promise<Extremes> {
    const rows: Extremes[] = await this.prepared.query(EXTREMES_SQL);
    return rows[0];
  }

  async retention(modelId?: number): Promise<RetentionFigures> {
    const rows: RetentionFigures[] = await this.prepared.query(
      `SELECT COALESCE(sum(purged_count) FILTER (WHERE NOT dry_run), 0) AS purged_total, count(*) AS runs_total,
              max(finished_at) FILTER (WHERE NOT dry_run AND status IN ('succeeded', 'partial')) AS last_run_at,
              (SELECT status FROM retention_runs r WHERE NOT r.dry_run AND r.finished_at IS NOT NULL
                  AND ($1::bigint IS NULL OR r.model_id IS NULL OR r.model_id = $1)
                ORDER BY r.finished_at DESC, r.id DESC LIMIT 1) AS last_run_status
         FROM retention_runs WHERE $1::bigint IS NULL OR model_id IS NULL OR model_id = $1`,
      [modelId ?? null],
    );
    return rows[0];
  }

  async forModel(modelId: number): Promise<ModelFigures | undefined> {
    const rows: ModelFigures[] = await this.dataSource.query(
      `SELECT m.task, m.created_at,
              count(v.id) AS versions_total,
              count(v.id) FILTER (WHERE v.archived_at IS NULL) AS versions_live,
              count(v.id) FILTER (WHERE v.archived_at IS NOT NULL) AS versions_archived,
              COALESCE(sum(v.size_bytes) FILTER (WHERE v.archived_at IS NOT NULL), 0) AS archived_bytes,
              count(v.id) FILTER (WHERE v.archived_at IS NULL AND v.slo_ok) AS slo_ok_live,
              count(v.eval_score) FILTER (WHERE v.archived_at IS NULL) AS eval_count,
              avg(v.eval_score) FILTER (WHERE v.archived_at IS NULL) AS eval_mean,
              min(v.eval_score) FILTER (WHERE v.archived_at IS NULL) AS eval_min,
              max(v.eval_score) FILTER (WHERE v.archived_at IS NULL) AS eval_max,
              count(v.cost_per_1k) FILTER (WHERE v.archived_at IS NULL) AS cost_count,
              avg(v.cost_per_1k) FILTER (WHERE v.archived_at IS NULL) AS cost_mean,
              min(v.cost_per_1k) FILTER (WHERE v.archived_at IS NULL) AS cost_min,
              max(v.cost_per_1k) FILTER (WHERE v.archived_at IS NULL) AS cost_max,
              max(v.created_at) AS newest_version_at,
              COALESCE((SELECT jsonb_object_agg(f, n) FROM (SELECT COALESCE(framework, '(none)') AS f, count(*) AS n FROM model_versions WHERE model_id = m.id GROUP BY 1) x), '{}') AS by_framework,
              COALESCE((SELECT jsonb_object_agg(p, n) FROM (SELECT b.provider AS p, count(*) AS n FROM provider_bindings b JOIN model_versions bv ON bv.id = b.version_id WHERE bv.model_id = m.id GROUP BY 1) x), '{}') AS bindings_by_provider,
              COALESCE((SELECT jsonb_object_agg(s, n) FROM (SELECT b.status AS s, count(*) AS n FROM provider_bindings b JOIN model_versions bv ON bv.id = b.version_id WHERE bv.model_id = m.id GROUP BY 1) x), '{}') AS bindings_by_status
         FROM models m LEFT JOIN model_versions v ON v.model_id = m.id
        WHERE m.id = $1
        GROUP BY m.id`,
      [modelId],
    );
    return rows[0];
  }
}
