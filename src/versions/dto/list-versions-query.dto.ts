import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString } from 'class-validator';
import { MAX_PAGE_SIZE, PageQueryDto } from '../../common/pagination/page-query.dto';
import { plainPositiveInteger, registerFastPath, stringEntries } from '../../common/validation/fast-path';
import { IsSlug, ToBoolean, IsId, IsFraction, IsNonNegative } from '../../common/validation/validators';
import { selectorQueryProperty } from '../../common/labels/label-api-properties';
import { IsLabelSelector } from '../../common/labels/label.validators';

export const VERSION_SORTS = ['created_at', '-created_at', 'version', '-version', 'eval_score', '-eval_score', 'cost_per_1k', '-cost_per_1k'] as const;
export type VersionSort = (typeof VERSION_SORTS)[number];

export class ListVersionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only versions of this model.', type: 'integer', example: 1 })
  @IsOptional()
  @IsId({ fromText: true })
  model_id?: number;

  @ApiPropertyOptional({ description: 'Only versions in this region.', example: 'us-east-1' })
  @IsOptional()
  @IsString()
  @IsSlug()
  region?: string;

  @ApiPropertyOptional({ description: 'Only versions of this framework.', example: 'pytorch' })
  @IsOptional()
  @IsString()
  @IsSlug()
  framework?: string;

  @ApiPropertyOptional({ description: 'Only versions of this model type.', example: 'llm' })
  @IsOptional()
  @IsString()
  @IsSlug()
  model_type?: string;

  @ApiPropertyOptional({ description: 'Only versions whose SLO flag is this.', type: Boolean })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  slo_ok?: boolean;

  @ApiPropertyOptional({ description: 'true: only archived versions; false: only live ones. Default: both.', type: Boolean })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  archived?: boolean;

  @ApiPropertyOptional({ description: 'Only versions with eval_score at least this (versions without a score are excluded).', example: 0.8, minimum: 0, maximum: 1 })
  @IsOptional()
  @IsFraction({ fromText: true })
  min_eval_score?: number;

  @ApiPropertyOptional({ description: 'Only versions with cost_per_1k at most this (versions without a cost are excluded).', example: 0.05, minimum: 0 })
  @IsOptional()
  @IsNonNegative({ fromText: true })
  max_cost_per_1k?: number;

  @ApiPropertyOptional(selectorQueryProperty('versions'))
  @IsOptional()
  @IsLabelSelector()
  selector?: string;

  @ApiPropertyOptional({
    description:
      'Order; `-` prefix for descending; ties broken by id. `version` is SemVer precedence. For eval_score a missing score counts as the lowest, for cost_per_1k a missing cost as the highest.',
    enum: VERSION_SORTS,
    default: '-created_at',
  })
  @IsOptional()
  @IsIn(VERSION_SORTS, { message: `must be one of ${VERSION_SORTS.join(', ')}` })
  sort: VersionSort = '-created_at';
}

const FAST_PARAMETERS = new Set(['model_id', 'limit']);

/** A model's versions, a page size: what a client lists most; every other query goes through class-validator. */
registerFastPath(ListVersionsQueryDto, (query) => {
  const keys = stringEntries(query, FAST_PARAMETERS);
  if (keys === undefined) return undefined;
  const dto = new ListVersionsQueryDto();
  for (const key of keys) {
    const value = plainPositiveInteger(query[key], key === 'limit' ? MAX_PAGE_SIZE : undefined);
    if (value === undefined) return undefined;
    if (key === 'limit') dto.limit = value;
    else dto.model_id = value;
  }
  return dto;
});
