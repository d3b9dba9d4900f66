import { ApiProperty } from '@nestjs/swagger';
import { RUN_STATUSES } from '../../retention/retention-run.entity';

const countMap = (description: string, example: Record<string, number>) =>
  ApiProperty({ description, example, type: 'object', additionalProperties: { type: 'integer' } });

class ModelCountsDto {
  @ApiProperty({ type: 'integer' })
  total: number;
  @countMap('Models per task.', { generation: 10, embedding: 2 })
  by_task: Record<string, number>;
}

class VersionCountsDto {
  @ApiProperty({ type: 'integer' })
  total: number;
  @ApiProperty({ type: 'integer' })
  live: number;
  @ApiProperty({ type: 'integer' })
  archived: number;
  @countMap('All versions per framework; `(none)` for versions without one.', { pytorch: 50, onnx: 30, '(none)': 4 })
  by_framework: Record<string, number>;
}

class BindingCountsDto {
  @ApiProperty({ type: 'integer' })
  total: number;
  @countMap('Bindings per provider.', { openai: 20, vertex: 5 })
  by_provider: Record<string, number>;
  @countMap('Bindings per status.', { active: 20, inactive: 3, deprecated: 2 })
  by_status: Record<string, number>;
}

export class NumberSummaryDto {
  @ApiProperty({ type: 'integer', description: 'Live versions with a value.' })
  count: number;
  @ApiProperty({ nullable: true, type: Number })
  mean: number | null;
  @ApiProperty({ nullable: true, type: Number })
  min: number | null;
  @ApiProperty({ nullable: true, type: Number })
  max: number | null;
}

class SloComplianceDto {
  @ApiProperty({ nullable: true, type: Number, description: 'Share of live versions with slo_ok (null when there are none).', example: 0.95 })
  compliance: number | null;
  @ApiProperty({ type: 'integer', description: 'Live versions with slo_ok.' })
  ok: number;
  @ApiProperty({ type: 'integer', description: 'Live versions.' })
  live: number;
}

class RetentionFiguresDto {
  @ApiProperty({ type: 'integer' })
  archived_versions: number;
  @ApiProperty({ type: 'integer', description: 'Sum of size_bytes of archived versions.' })
  archived_bytes: number;
  @ApiProperty({ nullable: true, type: 'integer', description: 'Versions purged by retention so far (catalog-wide only: runs do not record purges per model).' })
  purged_total: number | null;
  @ApiProperty({ type: 'integer', description: 'Retention runs recorded (for a model: runs scoped to it or to the catalog).' })
  runs_total: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When the last real run finished.' })
  last_run_at: string | null;
  @ApiProperty({ nullable: true, type: String, enum: RUN_STATUSES.filter((status) => status !== 'running'), description: 'How the last real run ended.' })
  last_run_status: string | null;
}

export class StatsResponseDto {
  @ApiProperty({ nullable: true, type: 'integer', description: 'The model the figures are narrowed to, or null for the whole registry.' })
  model_id: number | null;
  @ApiProperty({ type: ModelCountsDto })
  models: ModelCountsDto;
  @ApiProperty({ type: VersionCountsDto })
  versions: VersionCountsDto;
  @ApiProperty({ type: BindingCountsDto })
  bindings: BindingCountsDto;
  @ApiProperty({ type: NumberSummaryDto, description: 'Over live versions.' })
  eval_score: NumberSummaryDto;
  @ApiProperty({ type: NumberSummaryDto, description: 'Over live versions.' })
  cost_per_1k: NumberSummaryDto;
  @ApiProperty({ type: SloComplianceDto })
  slo: SloComplianceDto;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When the newest version was registered.' })
  newest_registration_at: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When the newest model was registered.' })
  newest_model_at: string | null;
  @ApiProperty({ type: RetentionFiguresDto })
  retention: RetentionFiguresDto;
}
