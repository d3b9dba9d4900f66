import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsOptionalButNotNull } from '../../common/validation/optional';
import { IsModelName, IsSlug, IsRetentionCount } from '../../common/validation/validators';
import { LABELS_INPUT_PROPERTY } from '../../common/labels/label-api-properties';
import { IsLabels } from '../../common/labels/label.validators';

export const KNOWN_TASKS = ['generation', 'chat', 'embedding', 'moderation', 'classification', 'rerank', 'transcription', 'speech', 'vision', 'image-generation'];
export const DEFAULT_SUBJECT = 'general';

export class CreateModelDto {
  @ApiProperty({
    description: 'Unique name: 1-128 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit.',
    example: 'gpt-4-turbo',
    pattern: '^[a-z0-9][a-z0-9._-]*$',
    maxLength: 128,
  })
  @IsString()
  @IsModelName()
  name: string;

  @ApiProperty({
    description: `What the model does, as a lowercase slug. Known tasks: ${KNOWN_TASKS.join(', ')} (others are accepted).`,
    example: 'generation',
    pattern: '^[a-z0-9][a-z0-9_-]*$',
    maxLength: 64,
  })
  @IsString()
  @IsSlug()
  task: string;

  @ApiPropertyOptional({
    description: 'Subject domain or category, as a lowercase slug.',
    example: 'general',
    default: DEFAULT_SUBJECT,
    pattern: '^[a-z0-9][a-z0-9_-]*$',
    maxLength: 64,
  })
  @IsOptionalButNotNull()
  @IsString()
  @IsSlug()
  subject?: string;

  @ApiPropertyOptional({ description: 'Free text, up to 4,000 characters.', example: 'GPT-4 Turbo model for general text generation', maxLength: 4000, nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(4000, { message: 'must be at most 4000 characters' })
  description?: string | null;

  @ApiPropertyOptional({
    description: 'How many of the newest versions retention keeps for this model (1-10); null: the service default (DEFAULT_RETENTION_COUNT).',
    example: 5,
    minimum: 1,
    maximum: 10,
    nullable: true,
    type: 'integer',
  })
  @IsOptional()
  @IsRetentionCount()
  retention_count?: number | null;

  @ApiPropertyOptional({ ...LABELS_INPUT_PROPERTY, default: {} })
  @IsOptionalButNotNull()
  @IsLabels()
  labels?: Record<string, string>;
}
