import { ApiProperty } from '@nestjs/swagger';
import { RetentionRunDto } from './retention-run.dto';

class VersionTotalsDto {
  @ApiProperty({ type: 'integer' })
  live: number;
  @ApiProperty({ type: 'integer' })
  archived: number;
  @ApiProperty({ type: 'integer', description: 'Purged by retention so far (all real runs).' })
  purged_total: number;
}

class EligibleModelDto {
  @ApiProperty({ type: 'integer' })
  model_id: number;
  @ApiProperty()
  model_name: string;
  @ApiProperty({ type: 'integer', description: 'Versions a run would archive now.' })
  eligible: number;
}

class EligibleDto {
  @ApiProperty({ type: 'integer', description: 'Versions a run with default settings would archive now.' })
  total: number;
  @ApiProperty({ type: [EligibleModelDto], description: 'The 20 models with the most.' })
  models: EligibleModelDto[];
}

class PolicyDto {
  @ApiProperty({ type: 'integer' })
  default_retention_count: number;
  @ApiProperty({ type: 'integer' })
  purge_after_days: number;
  @ApiProperty({ enum: ['none', 'file', 's3'] })
  storage: string;
}

class ScheduleDto {
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
  @ApiProperty({ type: VersionTotalsDto })
  versions: VersionTotalsDto;
  @ApiProperty({ type: 'integer', description: 'Sum of size_bytes of archived versions.' })
  archive_bytes: number;
  @ApiProperty({ type: EligibleDto })
  eligible_now: EligibleDto;
  @ApiProperty({ type: PolicyDto })
  policy: PolicyDto;
  @ApiProperty({ type: ScheduleDto })
  schedule: ScheduleDto;
  @ApiProperty({ type: 'integer' })
  runs_total: number;
  @ApiProperty({ type: [RetentionRunDto], description: 'The 10 most recent runs, newest first.' })
  last_runs: RetentionRunDto[];
}
