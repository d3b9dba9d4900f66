import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsOptionalButNotNull } from '../../common/validation/optional';
import { IsModelName, IsSlug, IsRetentionCount } from '../../common/validation/validators';
import { LABELS_INPUT_PROPERTY } from '../../common/labels/label-api-properties';
import { IsLabels } from '../../common/labels/label.validators';

/** Partial update: only the fields present change. `description: null` clears the description. */
export class UpdateModelDto {
  @ApiPropertyOptional({ description: 'New unique name (same rules as on create).', example: 'gpt-4-turbo-2024', maxLength: 128 })
  @IsOptionalButNotNull()
  @IsString()
  @IsModelName()
  name?: string;

  @ApiPropertyOptional({ description: 'Task slug.', example: 'generation', maxLength: 64 })
  @IsOptionalButNotNull()
  @IsString()
  @IsSlug()
  task?: string;

  @ApiPropertyOptional({ description: 'Subject slug.', example: 'general', maxLength: 64 })
  @IsOptionalButNotNull()
  @IsString()
  @IsSlug()
  subject?: string;

  @ApiPropertyOptional({ description: 'Free text up to 4,000 characters; null clears it.', example: 'Updated description', maxLength: 4000, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(4000, { message: 'must be at most 4000 characters' })
  description?: string | null;

  @ApiPropertyOptional({
    description: 'How many of the newest versions retention keeps for this model (1-10); null: back to the service default.',
    example: 5,
    minimum: 1,
    maximum: 10,
    nullable: true,
    type: 'integer',
  })
  @IsOptional()
  @IsRetentionCount()
  retention_count?: number | null;

  @ApiPropertyOptional(LABELS_INPUT_PROPERTY)
  @IsOptionalButNotNull()
  @IsLabels()
  labels?: Record<string, string>;
}
