import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { ModelRestriction } from '../common/auth/model-patterns';
import { ResourceNotFoundError } from '../common/errors/application.error';
import { decodePageToken, encodePageToken } from '../common/pagination/page-token';
import { retentionConfig } from '../config/retention.config';
import { RetentionRunDto, type RetentionRunPageDto } from './dto/retention-run.dto';
import type { RetentionStatsDto } from './dto/retention-stats.dto';
import { RetentionRepository } from './retention.repository';
import { RetentionScheduler } from './retention.scheduler';
import { RetentionService } from './retention.service';

const RUNS_SORT = '-started_at';

/** Read side of retention: statistics and the run log. */
@Injectable()
export class RetentionQueries {
  constructor(
    private readonly retention: RetentionRepository,
    private readonly service: RetentionService,
    private readonly scheduler: RetentionScheduler,
    @Inject(retentionConfig.KEY) private readonly config: ConfigType<typeof retentionConfig>,
  ) {}

  async stats(): Promise<RetentionStatsDto> {
    const [totals, eligible, runs] = await Promise.all([
      this.retention.totals(),
      this.retention.eligibleNow(this.config.defaultRetentionCount, 20),
      this.retention.listRuns(10),
    ]);
    return {
      versions: { live: totals.live, archived: totals.archived, purged_total: totals.purged_total },
      archive_bytes: totals.archived_bytes,
      eligible_now: eligible,
      policy: { default_retention_count: this.config.defaultRetentionCount, purge_after_days: this.config.purgeDays, storage: this.service.storageKind },
      schedule: { enabled: this.config.enabled, cron: this.config.cron, timezone: 'UTC', next_run_at: this.scheduler.nextRunAt()?.toISOString() ?? null },
      runs_total: totals.runs_total,
      last_runs: runs.map(RetentionRunDto.fromRow),
    };
  }

  /** `restriction`: a model-restricted caller sees only runs limited to one of its models. */
  async listRuns(limit: number, pageToken: string | undefined, restriction?: ModelRestriction): Promise<RetentionRunPageDto> {
    const cursor = pageToken === undefined ? undefined : decodePageToken(pageToken, RUNS_SORT, '');
    const rows = await this.retention.listRuns(limit + 1, cursor && { startedAt: cursor.value, id: cursor.id }, restriction?.like);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(RetentionRunDto.fromRow),
      next_page_token: rows.length > limit && last ? encodePageToken({ sort: RUNS_SORT, value: last.sort_value, id: last.id }, '') : null,
    };
  }

  async getRun(id: number): Promise<RetentionRunDto> {
    const row = await this.retention.findRun(id);
    if (!row) throw new ResourceNotFoundError('retention run', id);
    return RetentionRunDto.fromRow(row);
  }
}
