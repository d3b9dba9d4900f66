import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsNumber, IsOptional, IsString, Max, Min } from 'class-validator';
import { IsOptionalButNotNull } from '../../common/validation/optional';
import { IsAbsoluteUri, IsSemVerString, IsSha256, IsSlug, ToLowerCase, IsId, IsFraction, IsJsonObject, IsLineageUri } from '../../common/validation/validators';
import { LABELS_INPUT_PROPERTY } from '../../common/labels/label-api-properties';
import { IsLabels } from '../../common/labels/label.validators';

export const MAX_COST_PER_1K = 1_000_000_000;
export const MAX_METADATA_BYTES = 64 * 1024;

/** The descriptive, mutable fields of a version (shared by create and update). */
export class VersionFieldsDto {
  @ApiPropertyOptional({ description: 'Deployment region, as a lowercase slug.', example: 'us-east-1', maxLength: 64, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @IsSlug()
  region?: string | null;

  @ApiPropertyOptional({ description: 'Cost per 1K tokens (or items), in USD. Zero or more.', example: 0.01, minimum: 0, nullable: true, type: Number })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number zero or more' })
  @Min(0, { message: 'must be zero or more' })
  @Max(MAX_COST_PER_1K, { message: `must be at most ${MAX_COST_PER_1K}` })
  cost_per_1k?: number | null;

  @ApiPropertyOptional({ description: 'Evaluation score from 0 to 1.', example: 0.92, minimum: 0, maximum: 1, nullable: true, type: Number })
  @IsOptional()
  @IsFraction()
  eval_score?: number | null;

  @ApiPropertyOptional({ description: 'Whether the version meets its SLO.', example: true, default: true })
  @IsOptionalButNotNull()
  @IsBoolean({ message: 'must be true or false' })
  slo_ok?: boolean;

  @ApiPropertyOptional({ description: 'Pinned versions are never archived or purged by retention.', example: false, default: false })
  @IsOptionalButNotNull()
  @IsBoolean({ message: 'must be true or false' })
  pinned?: boolean;

  @ApiPropertyOptional({
    description:
      'Absolute URI of the model artifact (s3://, gs://, file://, https://, …). Any URI is recorded; retention moves only artifacts inside ARTIFACT_ROOTS. Cannot change while the version is archived (409).',
    example: 's3://models/gpt-4-turbo/v1.0.0/model.bin',
    maxLength: 2048,
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsAbsoluteUri()
  artifact_uri?: string | null;

  @ApiPropertyOptional({
    description:
      'Read-only: where retention put the archived copy of the artifact. A request may only echo the current value (null for a new version); any other value is a 400.',
    example: null,
    maxLength: 2048,
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsAbsoluteUri()
  archive_uri?: string | null;

  @ApiPropertyOptional({ description: 'Artifact size in bytes (0 to 2^53-1).', example: 5368709120, minimum: 0, nullable: true, type: 'integer' })
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  @Min(0, { message: 'must be zero or more' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'must be at most 2^53-1' })
  size_bytes?: number | null;

  @ApiPropertyOptional({ description: 'Model type, as a lowercase slug (transformer, llm, diffusion, …).', example: 'llm', maxLength: 64, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @IsSlug()
  model_type?: string | null;

  @ApiPropertyOptional({ description: 'Framework, as a lowercase slug (pytorch, tensorflow, onnx, …).', example: 'pytorch', maxLength: 64, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @IsSlug()
  framework?: string | null;

  @ApiPropertyOptional({ ...LABELS_INPUT_PROPERTY, default: {} })
  @IsOptionalButNotNull()
  @IsLabels()
  labels?: Record<string, string>;

  @ApiPropertyOptional({
    description:
      'Lineage: where this version came from — a training run, commit or pipeline — as an absolute URI (runs:/<run_id>/model, models:/name/3, s3://…, git+https://host/repo@commit, https://…); null clears it.',
    example: 'runs:/3f9a2c1e8b7d4e6f/model',
    maxLength: 2048,
    nullable: true,
    type: String,
  })
  @IsOptional()
  @IsLineageUri()
  source?: string | null;

  @ApiPropertyOptional({
    description: 'Model card: a JSON object of at most 64 KiB (compact JSON) — description, input/output signature, eval details, … Replaced whole on update ({} clears it). Not searchable.',
    example: { summary: 'GPT-4 Turbo fine-tuned for support', signature: { inputs: [{ name: 'prompt', type: 'string' }] }, evals: { mmlu: 0.86 } },
    type: 'object',
    additionalProperties: true,
    default: {},
  })
  @IsOptionalButNotNull()
  @IsJsonObject(MAX_METADATA_BYTES)
  metadata?: Record<string, unknown>;
}

export class CreateVersionDto extends VersionFieldsDto {
  @ApiProperty({ description: 'Id of the model this is a version of.', example: 1, type: 'integer', minimum: 1 })
  @IsId()
  model_id: number;

  @ApiProperty({ description: 'SHA-256 of the artifact: 64 hex characters (stored lowercase). Unique per model.', example: 'a1b2c3d4e5f6789012345678901234567890123456789012345678901234abcd' })
  @ToLowerCase()
  @IsString()
  @IsSha256()
  hash: string;

  @ApiProperty({ description: 'SemVer 2.0.0 version, unique per model.', example: '1.0.0', maxLength: 256 })
  @IsString()
  @IsSemVerString()
  version: string;
}
