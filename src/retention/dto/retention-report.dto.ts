import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { KEEP_REASONS } from '../retention-policy';

export class KeptVersionDto {
  @ApiProperty({ type: 'integer', example: 7 })
  version_id: number;
  @ApiProperty({ example: '1.4.0' })
  version: string;
  @ApiProperty({
    enum: [...KEEP_REASONS, 'changed_during_run'],
    description: 'within_retention: among the newest N; pinned / aliased / active_binding: protected; changed_during_run: became protected while the run was deciding.',
  })
  reason: string;
}

export class ArchivedVersionDto {
  @ApiProperty({ type: 'integer', example: 3 })
  version_id: number;
  @ApiProperty({ example: '1.1.0' })
  version: string;
  @ApiProperty({ nullable: true, type: String, example: 's3://models/gpt/1.1.0/model.bin' })
  artifact_uri: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'archive://models/gpt/1.1.0/model.bin' })
  archive_uri: string | null;
  @ApiProperty({
    enum: ['moved', 'copied', 'recorded', 'none'],
    description:
      'moved: copied to the archive and removed from its original place; copied: copied to the archive and left in place because live versions (of any model) still use it (reason shared_artifact; it is deleted once none does); ' +
      'recorded: archived in the database only and the artifact left untouched — no archive storage is configured, or see reason; none: the version has no artifact.',
  })
  artifact: string;
  @ApiPropertyOptional({
    enum: ['outside_artifact_roots', 'unsafe_path', 'shared_artifact'],
    description:
      'Why the artifact was left where it is: outside_artifact_roots — its URI is not inside ARTIFACT_ROOTS (the service never touches it); unsafe_path — its URI has a "..", an encoded slash or a NUL byte, or its path holds a symbolic link; shared_artifact — live versions still use it.',
    example: 'outside_artifact_roots',
  })
  reason?: string;
  @ApiPropertyOptional({ description: 'Set when the version is archived but its original could not be deleted (yet), or was replaced after it was copied and left alone.', example: 'archived; the original could not be deleted yet (the next run retries)' })
  warning?: string;
}

export class FailedVersionDto {
  @ApiProperty({ type: 'integer', example: 4 })
  version_id: number;
  @ApiProperty({ example: '1.2.0' })
  version: string;
  @ApiProperty({ description: 'Why it was not archived (or purged); it stays as it was.', example: 'NoSuchKey: The specified key does not exist.' })
  error: string;
}

export class PurgedVersionDto {
  @ApiProperty({ type: 'integer', example: 1 })
  version_id: number;
  @ApiProperty({ example: '1.0.0' })
  version: string;
  @ApiProperty({ nullable: true, type: String })
  archive_uri: string | null;
  @ApiProperty({ format: 'date-time' })
  archived_at: string;
}

export class ModelRetentionDto {
  @ApiProperty({ type: 'integer', example: 1 })
  model_id: number;
  @ApiProperty({ example: 'gpt-4-turbo' })
  model_name: string;
  @ApiProperty({ type: 'integer', example: 3, description: 'The retention count applied.' })
  retention_count: number;
  @ApiProperty({ type: [KeptVersionDto] })
  kept: KeptVersionDto[];
  @ApiProperty({ type: [ArchivedVersionDto], description: 'In a dry run: what would be archived.' })
  archived: ArchivedVersionDto[];
  @ApiProperty({ type: [FailedVersionDto] })
  failed: FailedVersionDto[];
  @ApiProperty({ type: [PurgedVersionDto], description: 'In a dry run: what would be purged.' })
  purged: PurgedVersionDto[];
}

export class RetentionTotalsDto {
  @ApiProperty({ type: 'integer', description: 'Models examined.' })
  models: number;
  @ApiProperty({ type: 'integer' })
  kept: number;
  @ApiProperty({ type: 'integer' })
  archived: number;
  @ApiProperty({ type: 'integer', description: 'Bytes of the archived versions (size_bytes).' })
  archived_bytes: number;
  @ApiProperty({ type: 'integer' })
  failed: number;
  @ApiProperty({ type: 'integer' })
  purged: number;
}

export class RetentionReportDto {
  @ApiProperty({ type: 'integer', description: 'The run as recorded in GET /retention/runs/{id}.' })
  run_id: number;
  @ApiProperty({ enum: ['manual', 'scheduled'] })
  trigger: string;
  @ApiProperty()
  dry_run: boolean;
  @ApiProperty()
  purge: boolean;
  @ApiProperty({ enum: ['succeeded', 'partial'], description: 'partial: some versions failed and were left as they were.' })
  status: string;
  @ApiProperty({ enum: ['none', 'file', 's3'], description: 'The archive storage in use.' })
  storage: string;
  @ApiProperty({ nullable: true, type: 'integer', description: 'The override given, if any.' })
  retention_count: number | null;
  @ApiProperty({ type: 'integer', description: 'Archived versions older than this many days are purged.' })
  purge_after_days: number;
  @ApiProperty({ format: 'date-time' })
  started_at: string;
  @ApiProperty({ format: 'date-time' })
  finished_at: string;
  @ApiProperty({ type: 'integer' })
  duration_ms: number;
  @ApiProperty({ type: RetentionTotalsDto })
  totals: RetentionTotalsDto;
  @ApiProperty({
    type: [ModelRetentionDto],
    description: 'Per model, the models where retention had something to decide (more live versions than its retention count, or something to purge): all of them for a single-model run; for a catalog-wide run the first 100, plus up to 100 more with failures. GET /versions?archived=true lists everything archived.',
  })
  models: ModelRetentionDto[];
  @ApiProperty({ description: 'True when more models were involved than `models` lists (the totals count them all).' })
  models_truncated: boolean;
}
