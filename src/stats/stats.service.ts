import { Injectable } from '@nestjs/common';
import { ResourceNotFoundError } from '../common/errors/application.error';
import { counter, counterBreakdown } from '../database/registry-counters';
import type { StatsResponseDto, NumberSummaryDto } from './dto/stats-response.dto';
import { StatsRepository } from './stats.repository';

const iso = (date: Date | null) => (date ? date.toISOString() : null);
const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);
const summary = (count: number, sum: number | null, min: number | null, max: number | null): NumberSummaryDto => ({
  count,
  mean: count > 0 && sum !== null ? sum / count : null,
  min,
  max,
});

/**
 * Registry statistics without scanning the catalog: catalog-wide figures come from counters kept by
 * triggers and from index lookups; figures for one model are aggregated over its few rows.
 */
@Injectable()
export class StatsService {
  constructor(private readonly stats: StatsRepository) {}

  async get(modelId?: number): Promise<StatsResponseDto> {
    return modelId === undefined ? this.catalog() : this.model(modelId);
  }

  private async catalog(): Promise<StatsResponseDto> {
    const [counters, extremes, retention] = await Promise.all([this.stats.counters(), this.stats.extremes(), this.stats.retention()]);
    const live = counter(counters, 'versions.live');
    return {
      model_id: null,
      models: { total: counter(counters, 'models.total'), by_task: counterBreakdown(counters, 'models.by_task') },
      versions: {
        total: counter(counters, 'versions.total'),
        live,
        archived: counter(counters, 'versions.archived'),
        by_framework: counterBreakdown(counters, 'versions.by_framework'),
      },
      bindings: {
        total: counter(counters, 'bindings.total'),
        by_provider: counterBreakdown(counters, 'bindings.by_provider'),
        by_status: counterBreakdown(counters, 'bindings.by_status'),
      },
      eval_score: summary(counter(counters, 'versions.live.eval.count'), counter(counters, 'versions.live.eval.sum'), extremes.eval_min, extremes.eval_max),
      cost_per_1k: summary(counter(counters, 'versions.live.cost.count'), counter(counters, 'versions.live.cost.sum'), extremes.cost_min, extremes.cost_max),
      slo: { compliance: ratio(counter(counters, 'versions.live.slo_ok'), live), ok: counter(counters, 'versions.live.slo_ok'), live },
      newest_registration_at: iso(extremes.newest_version_at),
      newest_model_at: iso(extremes.newest_model_at),
      retention: {
        archived_versions: counter(counters, 'versions.archived'),
        archived_bytes: counter(counters, 'versions.archived.bytes'),
        purged_total: retention.purged_total,
        runs_total: retention.runs_total,
        last_run_at: iso(retention.last_run_at),
        last_run_status: retention.last_run_status,
      },
    };
  }

  private async model(modelId: number): Promise<StatsResponseDto> {
    const [figures, retention] = await Promise.all([this.stats.forModel(modelId), this.stats.retention(modelId)]);
    if (!figures) throw new ResourceNotFoundError('model', modelId);
    const sumOf = (mean: number | null, count: number) => (mean === null ? null : mean * count);
    const bindings = Object.values(figures.bindings_by_status).reduce((total, n) => total + n, 0);
    return {
      model_id: modelId,
      models: { total: 1, by_task: { [figures.task]: 1 } },
      versions: { total: figures.versions_total, live: figures.versions_live, archived: figures.versions_archived, by_framework: figures.by_framework },
      bindings: { total: bindings, by_provider: figures.bindings_by_provider, by_status: figures.bindings_by_status },
      eval_score: summary(figures.eval_count, sumOf(figures.eval_mean, figures.eval_count), figures.eval_min, figures.eval_max),
      cost_per_1k: summary(figures.cost_count, sumOf(figures.cost_mean, figures.cost_count), figures.cost_min, figures.cost_max),
      slo: { compliance: ratio(figures.slo_ok_live, figures.versions_live), ok: figures.slo_ok_live, live: figures.versions_live },
      newest_registration_at: iso(figures.newest_version_at),
      newest_model_at: iso(figures.created_at),
      retention: {
        archived_versions: figures.versions_archived,
        archived_bytes: figures.archived_bytes,
        purged_total: null,
        runs_total: retention.runs_total,
        last_run_at: iso(retention.last_run_at),
        last_run_status: retention.last_run_status,
      },
    };
  }
}
