import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { IsSlug, ToBoolean, IsFraction, IsNonNegative } from '../../common/validation/validators';

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
  @IsNonNegative({ fromText: true })
  max_cost_per_1k?: number;

  @ApiPropertyOptional({ description: 'Only versions scoring at least this (versions without a score are excluded).', example: 0.85, minimum: 0, maximum: 1 })
  @IsOptional()
  @IsFraction({ fromText: true })
  min_eval_score?: number;

  @ApiPropertyOptional({ description: 'Only versions meeting their SLO.', type: Boolean, default: false })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  require_slo?: boolean;
}
