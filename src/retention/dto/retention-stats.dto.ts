import { ApiProperty } from '@nestjs/swagger';
import { RetentionRunDto } from './retention-run.dto';

class RetentionVersionTotalsDto {
  @ApiProperty({ type: 'integer' })
  live: number;
  @ApiProperty({ type: 'integer' })
  archived: number;
  @ApiProperty({ type: 'integer', description: 'Purged by retention so far (all real runs).' })
  purged_total: number;
}

class RetentionEligibleModelDto {
  @ApiProperty({ type: 'integer' })
  model_id: number;
  @ApiProperty()
  model_name: string;
  @ApiProperty({ type: 'integer', description: 'Versions a run would archive now.' })
  eligible: number;
}

class RetentionEligibleDto {
  @ApiProperty({ type: 'integer', description: 'Versions a run with default settings would archive now.' })
  total: number;
  @ApiProperty({ type: [RetentionEligibleModelDto], description: 'The 20 models with the most.' })
  models: RetentionEligibleModelDto[];
}

class RetentionPolicyDto {
  @ApiProperty({ type: 'integer' })
  default_retention_count: number;
  @ApiProperty({ type: 'integer' })
  purge_after_days: number;
  @ApiProperty({ enum: ['none', 'file', 's3'] })
  storage: string;
}

class RetentionScheduleDto {
  @ApiProperty()
  enabled: boolean;
  @ApiProperty({ example: '0 3 * * *' })
  cron: string;
  @ApiProperty({ example: 'UTC' })
  timezone: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' })
  next_run_at: string | null;
}

export class RetentionStatsDto {
  @ApiProperty({ type: RetentionVersionTotalsDto })
  versions: RetentionVersionTotalsDto;
  @ApiProperty({ type: 'integer', description: 'Sum of size_bytes of archived versions.' })
  archive_bytes: number;
  @ApiProperty({ type: RetentionEligibleDto })
  eligible_now: RetentionEligibleDto;
  @ApiProperty({ type: RetentionPolicyDto })
  policy: RetentionPolicyDto;
  @ApiProperty({ type: RetentionScheduleDto })
  schedule: RetentionScheduleDto;
  @ApiProperty({ type: 'integer' })
  runs_total: number;
  @ApiProperty({ type: [RetentionRunDto], description: 'The 10 most recent runs, newest first.' })
  last_runs: RetentionRunDto[];
}
