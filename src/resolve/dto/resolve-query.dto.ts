import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { IsSlug, ToBoolean, ToNumber } from '../../common/validation/validators';

export class ResolveQueryDto {
  @ApiPropertyOptional({
    description: 'Alias to resolve. Default: `production`, falling back to the newest live version when the model has no `production` alias. `latest` always means the newest live version. An explicit alias the model lacks is a 404.',
    example: 'production',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z0-9][a-z0-9_-]*$/, { message: 'must be a lowercase slug' })
  alias?: string;

  @ApiPropertyOptional({
    description: 'An exact version (`1.4.2`) or a SemVer range (`^1.4`, `~2.0.1`, `>=1.2 <2`, `1.x`), resolved to the highest live version that matches. Not together with alias.',
    example: '^1.4',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  version?: string;

  @ApiPropertyOptional({ description: 'Only versions with an active binding to this provider; only its bindings are returned.', example: 'openai' })
  @IsOptional()
  @IsString()
  @IsSlug()
  provider?: string;

  @ApiPropertyOptional({ description: 'Only versions deployed in this region.', example: 'us-east-1' })
  @IsOptional()
  @IsString()
  @IsSlug()
  region?: string;

  @ApiPropertyOptional({ description: 'Only versions costing at most this per 1K (versions without a cost are excluded).', example: 0.02, minimum: 0 })
  @IsOptional()
  @ToNumber()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number zero or more' })
  @Min(0, { message: 'must be a number zero or more' })
  max_cost_per_1k?: number;

  @ApiPropertyOptional({ description: 'Only versions scoring at least this (versions without a score are excluded).', example: 0.85, minimum: 0, maximum: 1 })
  @IsOptional()
  @ToNumber()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number from 0 to 1' })
  @Min(0, { message: 'must be a number from 0 to 1' })
  @Max(1, { message: 'must be a number from 0 to 1' })
  min_eval_score?: number;

  @ApiPropertyOptional({ description: 'Only versions meeting their SLO.', type: Boolean, default: false })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  require_slo?: boolean;
}
