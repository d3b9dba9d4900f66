import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import { IsSlug } from '../../common/validation/validators';
import { selectorQueryProperty } from '../../common/labels/label-api-properties';
import { IsLabelSelector } from '../../common/labels/label.validators';

export const MODEL_SORTS = ['name', '-name', 'created_at', '-created_at', 'updated_at', '-updated_at'] as const;
export type ModelSort = (typeof MODEL_SORTS)[number];

export class ListModelsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only models with this task.', example: 'generation' })
  @IsOptional()
  @IsString()
  @IsSlug()
  task?: string;

  @ApiPropertyOptional({ description: 'Only models with this subject.', example: 'general' })
  @IsOptional()
  @IsString()
  @IsSlug()
  subject?: string;

  @ApiPropertyOptional({ description: 'Only models whose name contains this text (case-insensitive).', example: 'gpt', maxLength: 128 })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  q?: string;

  @ApiPropertyOptional(selectorQueryProperty('models'))
  @IsOptional()
  @IsLabelSelector()
  selector?: string;

  @ApiPropertyOptional({ description: 'Order; `-` prefix for descending. Ties are broken by id.', enum: MODEL_SORTS, default: 'name' })
  @IsOptional()
  @IsIn(MODEL_SORTS, { message: `must be one of ${MODEL_SORTS.join(', ')}` })
  sort: ModelSort = 'name';
}
