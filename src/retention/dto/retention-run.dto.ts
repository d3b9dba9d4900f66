import { ApiProperty } from '@nestjs/swagger';
import { RUN_STATUSES, RUN_TRIGGERS } from '../retention-run.entity';
import type { RunRow } from '../retention.repository';
import { FailedVersionDto } from './retention-report.dto';

/** A version a run could not archive or purge, as the run records it. */
export class RecordedFailureDto extends FailedVersionDto {
  @ApiProperty({ type: 'integer', description: 'The model of the version.', example: 1 })
  model_id: number;
}

export class RetentionRunDto {
  @ApiProperty({ type: 'integer' })
  id: number;
  @ApiProperty({ enum: RUN_TRIGGERS })
  trigger: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'The cron slot of a scheduled run.' })
  scheduled_for: string | null;
  @ApiProperty({
    enum: RUN_STATUSES,
    description: 'skipped: another run held the lock; failed: an error stopped it (see error); abandoned: the instance running it stopped (its session lock is gone) — the next run completes or reverts what it left.',
  })
  status: string;
  @ApiProperty()
  dry_run: boolean;
  @ApiProperty()
  purge: boolean;
  @ApiProperty({ nullable: true, type: 'integer' })
  model_id: number | null;
  @ApiProperty({ nullable: true, type: 'integer' })
  retention_count: number | null;
  @ApiProperty({ enum: ['none', 'file', 's3'] })
  storage: string;
  @ApiProperty({ nullable: true, type: String, description: 'host:pid of the instance that ran it.' })
  instance: string | null;
  @ApiProperty({ format: 'date-time' })
  started_at: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  finished_at: string | null;
  @ApiProperty({ nullable: true, type: 'integer' })
  duration_ms: number | null;
  @ApiProperty({
    description: 'Counts.',
    example: { models: 10, kept: 30, archived: 12, archived_bytes: 123456, failed: 0, purged: 2 },
    type: 'object',
    additionalProperties: { type: 'integer' },
  })
  counts: { models: number; kept: number; archived: number; archived_bytes: number; failed: number; purged: number };
  @ApiProperty({ description: 'Up to 100 versions that failed, with the reason.', type: [RecordedFailureDto] })
  failures: RecordedFailureDto[];
  @ApiProperty({ nullable: true, type: String })
  error: string | null;

  static fromRow(row: RunRow): RetentionRunDto {
    return {
      id: row.id,
      trigger: row.trigger,
      scheduled_for: row.scheduled_for?.toISOString() ?? null,
      status: row.status,
      dry_run: row.dry_run,
      purge: row.purge,
      model_id: row.model_id,
      retention_count: row.retention_count,
      storage: row.storage,
      instance: row.instance,
      started_at: row.started_at.toISOString(),
      finished_at: row.finished_at?.toISOString() ?? null,
      duration_ms: row.duration_ms,
      counts: {
        models: row.models_count,
        kept: row.kept_count,
        archived: row.archived_count,
        archived_bytes: row.archived_bytes,
        failed: row.failed_count,
        purged: row.purged_count,
      },
      failures: row.failures as RecordedFailureDto[],
      error: row.error,
    };
  }
}

export class RetentionRunPageDto {
  @ApiProperty({ type: [RetentionRunDto] })
  items: RetentionRunDto[];
  @ApiProperty({ nullable: true, type: String })
  next_page_token: string | null;
}
