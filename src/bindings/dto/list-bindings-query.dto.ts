import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import { IsSlug, IsId } from '../../common/validation/validators';
import { selectorQueryProperty } from '../../common/labels/label-api-properties';
import { IsLabelSelector } from '../../common/labels/label.validators';
import { BINDING_STATUSES, type BindingStatus } from '../provider-binding.entity';

export const BINDING_SORTS = ['created_at', '-created_at', 'provider', '-provider', 'avg_latency_ms', '-avg_latency_ms', 'success_rate', '-success_rate'] as const;
export type BindingSort = (typeof BINDING_SORTS)[number];

export class ListBindingsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only bindings of this version.', type: 'integer', example: 1 })
  @IsOptional()
  @IsId({ fromText: true })
  version_id?: number;

  @ApiPropertyOptional({ description: 'Only bindings of versions of this model.', type: 'integer', example: 1 })
  @IsOptional()
  @IsId({ fromText: true })
  model_id?: number;

  @ApiPropertyOptional({ description: 'Only bindings to this provider.', example: 'openai' })
  @IsOptional()
  @IsString()
  @IsSlug()
  provider?: string;

  @ApiPropertyOptional({ description: 'Only bindings with this status.', enum: BINDING_STATUSES })
  @IsOptional()
  @IsIn(BINDING_STATUSES, { message: `must be one of ${BINDING_STATUSES.join(', ')}` })
  status?: BindingStatus;

  @ApiPropertyOptional(selectorQueryProperty('bindings'))
  @IsOptional()
  @IsLabelSelector()
  selector?: string;

  @ApiPropertyOptional({
    description: 'Order; `-` prefix for descending; ties broken by id. A missing latency counts as the highest, a missing success rate as the lowest.',
    enum: BINDING_SORTS,
    default: '-created_at',
  })
  @IsOptional()
  @IsIn(BINDING_SORTS, { message: `must be one of ${BINDING_SORTS.join(', ')}` })
  sort: BindingSort = '-created_at';
}
